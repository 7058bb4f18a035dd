using KernelSim.Drivers.Pmem;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>What a seed run leaves behind: one record per step (plus the final check) and the machine.</summary>
public sealed record SeedRun(CampaignPlan Plan, KernelVersion Profile, IReadOnlyList<OpRecord> Records, Machine Machine,
    IReadOnlyDictionary<int, List<ulong>> Applied)
{
    /// <summary>The worst outcome of the run.</summary>
    public Outcome Worst
    {
        get
        {
            var w = Outcome.Injected;
            foreach (var r in Records)
                if (r.Outcome > w) w = r.Outcome;
            return w;
        }
    }
}

/// <summary>The live state of a seed run, given to the after-step hook (tests corrupt memory through it).</summary>
public sealed class SeedContext
{
    public required Machine Machine { get; init; }
    public required Process Process { get; init; }
    public required UserPtr Buf { get; init; }
    public required PlanStep Step { get; init; }
    public int Index { get; init; }
}

/// <summary>
/// Runs one plan on one profile and classifies every step, with an oracle that knows every byte: a model of
/// the file/device region and of the user buffer. Bytes returned to user space and bytes on the media are
/// compared with it; a mismatch is silent corruption. Only bytes the kernel claims to have moved are
/// compared (a short count leaves the rest unknown); a write accepted from a poisoned source line is
/// classified poison-accepted (what the profile does), not flagged.
/// </summary>
public sealed class SeedRunner
{
    private const int MaxReported = 4;

    /// <summary>KERNELSIM_CAMPAIGN_DEBUG=1 prints each step on stderr before it runs (to find a hang).</summary>
    private static readonly bool Debug = Environment.GetEnvironmentVariable("KERNELSIM_CAMPAIGN_DEBUG") == "1";

    private readonly CampaignSpec _spec;
    private readonly CampaignPlan _plan;
    private readonly KernelVersion _profile;
    private readonly Action<SeedContext>? _afterStep;
    private readonly List<OpRecord> _records = [];
    private Machine _m = null!;
    private Process _p = null!;
    private UserPtr _buf;
    private UserPtr _vec;
    private int _fd = -1;
    private long _fpos;
    private ByteModel _dev = null!;
    private ByteModel _user = null!;
    private PmemDevice? _pmem;
    private RamFs? _ramfs;
    private DaxFs? _daxfs;
    private VirtioFsShare? _share;
    private HostileWorkload? _hostile;
    private readonly List<(ulong Pos, ulong Len)> _dirty = [];
    private readonly Dictionary<int, List<ulong>> _applied = [];

    private SeedRunner(CampaignSpec spec, CampaignPlan plan, KernelVersion profile, Action<SeedContext>? afterStep)
    {
        _spec = spec;
        _plan = plan;
        _profile = profile;
        _afterStep = afterStep;
    }

    public static SeedRun Run(CampaignSpec spec, CampaignPlan plan, KernelVersion profile, bool trace = false, Action<SeedContext>? afterStep = null)
    {
        var r = new SeedRunner(spec, plan, profile, afterStep);
        try
        {
            r.Execute(trace);
        }
        catch (Exception e)
        {
            // The campaign boundary: any .NET exception escaping the simulator is a bug, reported with its seed.
            r.Add(r._records.Count, "(simulator)", null, Outcome.SimBug, $"{e.GetType().FullName}: {e.Message}");
        }
        return new SeedRun(plan, profile, r._records, r._m, r._applied);
    }

    private string ProfileName => _profile.ToString();

    private void Add(int step, string call, long? ret, Outcome o, string detail) =>
        _records.Add(new OpRecord(_plan.Seed, ProfileName, CampaignSpec.NameOf(_plan.Workload), _plan.Id(), step, call, ret, o, detail));

    private void Execute(bool trace)
    {
        var w = _plan.Workload;
        var b = new MachineBuilder().WithKernel(_profile).WithCpu(_spec.Cpu).WithDram(_spec.Dram)
            .WithWorkTiming(_plan.WorkManual ? WorkTiming.Manual : WorkTiming.AtSyscallExit)
            .WithSeed(_plan.Seed).WithTrace(trace);
        if (CampaignSpec.IsPmem(w) || w == WorkloadKind.Hostile) b.AddPmem(new PmemNamespaceSpec(_spec.PmemSize)).AddDaxFs();
        if (w == WorkloadKind.Virtiofs)
        {
            var data = ByteModel.Pattern(_plan.Seed, 0xD0D0, (int)CampaignPlan.Region);
            b.AddVirtioFs(new VirtioFsOptions(), share => share.Host.CreateFile("data", data.Length, nodeId: 5, data: data));
        }
        _m = b.Build();
        var region = (int)CampaignPlan.Region;
        _dev = new ByteModel(ByteModel.Pattern(_plan.Seed, 0xD0D0, region));
        _user = new ByteModel(ByteModel.Pattern(_plan.Seed, 0xB0B0, (int)CampaignPlan.BufSize));
        if (CampaignSpec.IsPmem(w))
        {
            _pmem = _m.Pmem("pmem0");
            if (w == WorkloadKind.Fsdax) _daxfs = DaxFs.FormatAndMount(_m, _pmem.Disk, new DaxFsOptions { Dax = DaxMode.Always });
            else _m.Phys.PokeBytes(new PhysAddr(_pmem.DataPhys(0)), ByteModel.Pattern(_plan.Seed, 0xD0D0, region));
        }
        if (w is WorkloadKind.RamfsRw or WorkloadKind.Hostile)
        {
            _ramfs = RamFs.Mount(_m);
            _ramfs.CreateWithData("data", ByteModel.Pattern(_plan.Seed, 0xD0D0, region));
        }
        _p = _m.Spawn("app");
        _p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        _p.SetSignalHandler(Sig.SIGSEGV, SignalDisposition.Catch);
        var shared = w == WorkloadKind.MmapShared;
        var addr = _p.Mmap(0, CampaignPlan.BufSize, Mman.PROT_READ | Mman.PROT_WRITE, (shared ? Mman.MAP_SHARED : Mman.MAP_PRIVATE) | Mman.MAP_ANONYMOUS);
        if (addr < 0) throw new InvalidOperationException($"setup mmap failed: {Errno.Describe(addr)}");
        _buf = new UserPtr((ulong)addr);
        var st = _p.Store(_buf, ByteModel.Pattern(_plan.Seed, 0xB0B0, (int)CampaignPlan.BufSize));
        if (!st.Completed(CampaignPlan.BufSize)) throw new InvalidOperationException("setup: filling the buffer failed");
        var vr = _p.Mmap(0x10000, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE | Mman.MAP_ANONYMOUS | Mman.MAP_FIXED);
        if (vr < 0) throw new InvalidOperationException($"setup mmap of the iovec page failed: {Errno.Describe(vr)}");
        _vec = new UserPtr((ulong)vr);
        if (w == WorkloadKind.RamfsRw) _fd = (int)_p.Open("/mnt/ramfs/data", Fcntl.O_RDWR);
        else if (w == WorkloadKind.PmemBuffered) _fd = (int)_p.Open("/dev/pmem0", Fcntl.O_RDWR);
        else if (w == WorkloadKind.Virtiofs)
        {
            _share = VirtioFs.Shares(_m).Single();
            _fd = (int)_p.Open(_share.PathOf("data"), Fcntl.O_RDWR);
        }
        else if (w == WorkloadKind.PmemDirect) _fd = (int)_p.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        else if (w == WorkloadKind.Fsdax)
        {
            // The file's initial data is written through the filesystem, from the user buffer.
            _fd = (int)_p.Open(_daxfs!.MountPoint + "/data", Fcntl.O_RDWR | Fcntl.O_CREAT);
            var init = ByteModel.Pattern(_plan.Seed, 0xD0D0, region);
            if (_fd >= 0)
            {
                if (!_p.Store(_buf, init).Completed((ulong)init.Length) || _p.Pwrite64(_fd, _buf, (ulong)init.Length, 0) != init.Length)
                    throw new InvalidOperationException("setup: writing the daxfs file failed");
                if (!_p.Store(_buf, ByteModel.Pattern(_plan.Seed, 0xB0B0, (int)CampaignPlan.BufSize)).Completed(CampaignPlan.BufSize))
                    throw new InvalidOperationException("setup: refilling the buffer failed");
            }
        }
        if (CampaignSpec.IsFile(w) && _fd < 0)
        {
            // The release has no such filesystem (virtio-fs is 5.4+) or the mount failed: one record, no operations.
            Add(0, "setup: open", _fd, Outcome.OtherErrno, $"open failed: {Errno.Describe(_fd)}; no operation ran");
            return;
        }
        if (w == WorkloadKind.Hostile) _hostile = new HostileWorkload(_m, _p, _buf, _vec);
        _m.Tracer.Clear();

        for (var i = 0; i < _plan.Steps.Count; i++)
        {
            if (!_m.State.Alive || !_p.Alive) break;
            var step = _plan.Steps[i];
            if (Debug) Console.Error.WriteLine($"# seed {_plan.Seed} {_profile} step {i}: {step.Describe()}");
            if (step.IsFault) Inject(i, step);
            else if (step.Kind == StepKind.Hostile) _hostile!.Execute(i, step, Add);
            else Operate(i, step);
            _afterStep?.Invoke(new SeedContext { Machine = _m, Process = _p, Buf = _buf, Step = step, Index = i });
        }
        if (w != WorkloadKind.Hostile) FinalCheck();
    }

    // ---- faults ---------------------------------------------------------------------------------------

    private void Inject(int i, PlanStep s)
    {
        var applied = 0;
        var at = _applied[i] = [];
        switch (s.Kind)
        {
            case StepKind.PoisonDevice:
                applied = PoisonDev(s.Off, at);
                break;
            case StepKind.StormDevice:
                for (ulong k = 0; k < s.Len; k++) applied += PoisonDev(s.Off + k * (ulong)s.Pos, at);
                break;
            case StepKind.Badblocks:
            {
                var ndctl = new Ndctl(_m);
                var sector = _daxfs != null ? _daxfs.SectorOf("data", (long)s.Off * 512) : (long)s.Off;
                var rc = sector < 0 ? -1 : ndctl.InjectError(_pmem!.NamespaceName, sector, (long)s.Len);
                applied = rc == 0 ? 1 : 0;
                if (applied == 1) at.Add((ulong)sector); // the block given to ndctl (a scenario's ndctl step repeats it)
                break;
            }
            case StepKind.PoisonBuffer:
                applied = PoisonBuf(s.Off, at);
                break;
            case StepKind.StormBuffer:
                for (ulong k = 0; k < s.Len; k++) applied += PoisonBuf(s.Off + k * (ulong)s.Pos, at);
                break;
            case StepKind.UnmapPage:
                applied = _p.Munmap(_buf.Value + s.Off, 4096) == 0 ? 1 : 0;
                if (applied == 1) at.Add(s.Off);
                break;
            case StepKind.ReadonlyPage:
                applied = _p.Mprotect(_buf.Value + s.Off, 4096, Mman.PROT_READ) == 0 ? 1 : 0;
                if (applied == 1) at.Add(s.Off);
                break;
            case StepKind.HostTruncate:
                // Another host party truncates the file: the guest's cached size is stale; bytes past the new
                // size are whatever the host now has (zeros, or nothing), so the oracle forgets them.
                if (_share!.Host.Truncate("data", (long)s.Off))
                {
                    applied = 1;
                    at.Add(s.Off);
                    _dev.Forget(s.Off, CampaignPlan.Region - s.Off);
                }
                break;
            case StepKind.SubpageHole:
                _p.Mm.SetSubpageProtection(new UserPtr(_buf.Value + s.Off), s.Len, accessible: false);
                applied = 1;
                at.Add(s.Off);
                break;
        }
        Add(i, s.Describe(), null, Outcome.Injected, applied == 0 ? "not applied" : $"applied {applied}");
    }

    /// <summary>The device offset (relative to the data area of /dev/pmem0) holding region byte <paramref name="off"/>, or −1.</summary>
    private long DevOffset(ulong off) => _daxfs != null ? _daxfs.DeviceOffsetOf("data", (long)off) : (long)off;

    private int PoisonDev(ulong off, List<ulong> at)
    {
        var dev = DevOffset(off);
        if (off >= CampaignPlan.Region || dev < 0 || _m.InjectPoison(new PhysAddr(_pmem!.DataPhys((ulong)dev))) != 0) return 0;
        at.Add(off);
        return 1;
    }

    private int PoisonBuf(ulong off, List<ulong> at)
    {
        if (off >= CampaignPlan.BufSize) return 0;
        var va = _buf.Value + off;
        if (_p.Mm.PfnAt(va) is not { } pfn) return 0;
        if (_m.InjectPoison(new PhysAddr((pfn << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va))) != 0) return 0;
        at.Add(off);
        return 1;
    }

    private bool BufLinePoisoned(ulong off)
    {
        var va = _buf.Value + off;
        if (_p.Mm.PfnAt(va) is not { } pfn) return false;
        return _m.Phys.IsPoisoned(new PhysAddr((pfn << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va)));
    }

    private bool DevLinePoisoned(ulong off) => _pmem != null && DevOffset(off) is >= 0 and var dev && _m.Phys.IsPoisoned(new PhysAddr(_pmem.DataPhys((ulong)dev)));

    // ---- operations -----------------------------------------------------------------------------------

    private (ulong Off, ulong Len)[] Segments(PlanStep s)
    {
        if (s.Segs == null) return [(s.Off, s.Len)];
        var r = new (ulong, ulong)[s.Segs.Length / 2];
        for (var k = 0; k < r.Length; k++) r[k] = (s.Segs[2 * k], s.Segs[2 * k + 1]);
        return r;
    }

    private void Operate(int i, PlanStep s)
    {
        var sigBefore = _p.SignalsReceived.Count;
        var call = s.Describe();
        switch (s.Kind)
        {
            case StepKind.Load or StepKind.Store:
                UserAccess(i, s, call, sigBefore);
                return;
            case StepKind.Fsync:
            {
                var r = _p.Fsync(_fd);
                if (r == -Errno.EIO)
                    foreach (var (dpos, dlen) in _dirty) _dev.Forget(dpos, dlen);
                if (r != Machine.NoReturn) _dirty.Clear();
                Add(i, call, r, Classify(r, 0, sigBefore, out var d), d);
                return;
            }
        }
        var write = s.Kind is StepKind.Write or StepKind.Pwrite or StepKind.Writev or StepKind.Pwritev;
        var positioned = s.Kind is StepKind.Pread or StepKind.Pwrite or StepKind.Preadv or StepKind.Pwritev;
        var segs = Segments(s);
        var total = s.TotalLen;
        var pos = positioned ? s.Pos : _fpos;
        var direct = _plan.Workload is WorkloadKind.PmemDirect or WorkloadKind.Fsdax; // reads come from the media

        // What the oracle needs from before the call.
        var poisonedSource = new List<ulong>(); // offsets (in the operation) of poisoned source lines
        var poisonedDev = new List<ulong>();
        if (write)
        {
            ulong at = 0;
            foreach (var (off, len) in segs)
            {
                for (var line = off & ~63UL; line < off + len; line += 64)
                    if (line < CampaignPlan.BufSize && BufLinePoisoned(line)) poisonedSource.Add(at + (line > off ? line - off : 0));
                at += len;
            }
        }
        else if (direct)
        {
            for (var line = (ulong)pos & ~63UL; line < (ulong)pos + total; line += 64)
                if (line < CampaignPlan.Region && DevLinePoisoned(line)) poisonedDev.Add(line);
        }

        long ret;
        if (s.Segs == null)
        {
            var ptr = new UserPtr(_buf.Value + s.Off);
            ret = s.Kind switch
            {
                StepKind.Read => _p.Read(_fd, ptr, s.Len),
                StepKind.Write => _p.Write(_fd, ptr, s.Len),
                StepKind.Pread => _p.Pread64(_fd, ptr, s.Len, s.Pos),
                _ => _p.Pwrite64(_fd, ptr, s.Len, s.Pos),
            };
        }
        else
        {
            var raw = new byte[segs.Length * 16];
            for (var k = 0; k < segs.Length; k++)
            {
                BitConverter.TryWriteBytes(raw.AsSpan(k * 16, 8), _buf.Value + segs[k].Off);
                BitConverter.TryWriteBytes(raw.AsSpan(k * 16 + 8, 8), segs[k].Len);
            }
            var st = _p.Store(_vec, raw);
            if (!st.Completed((ulong)raw.Length)) throw new InvalidOperationException("storing the iovec array failed");
            ret = s.Kind switch
            {
                StepKind.Readv => _p.Readv(_fd, _vec, segs.Length),
                StepKind.Writev => _p.Writev(_fd, _vec, segs.Length),
                StepKind.Preadv => _p.Preadv(_fd, _vec, segs.Length, s.Pos),
                _ => _p.Pwritev(_fd, _vec, segs.Length, s.Pos),
            };
        }
        var outcome = Classify(ret, total, sigBefore, out var detail);
        var n = ret >= 0 && ret != Machine.NoReturn ? (ulong)Math.Min(ret, (long)total) : 0;
        var mismatches = new List<string>();
        if (write)
        {
            // The device now holds the source bytes the kernel claims to have written; the rest of the range is unknown.
            ulong at = 0;
            foreach (var (off, len) in segs)
            {
                for (ulong k = 0; k < len; k++, at++)
                {
                    var d = (ulong)pos + at;
                    if (at < n && _user.TryGet(off + k, out var v)) _dev.Set(d, v);
                    else _dev.Forget(d);
                }
            }
            var accepted = false;
            foreach (var ps in poisonedSource)
            {
                if (ps >= n) continue;
                accepted = true;
                _dev.Forget((ulong)pos + (ps & ~63UL), 64);
            }
            if (accepted && outcome is Outcome.Complete or Outcome.ShortCount)
            {
                outcome = Outcome.PoisonAccepted;
                detail = $"write accepted {n} bytes including a poisoned source line";
            }
            if (_plan.Workload == WorkloadKind.PmemBuffered) _dirty.Add(((ulong)pos, total));
        }
        else
        {
            // Compare what the kernel claims to have read; everything else in the range becomes unknown. Segments may
            // overlap: the later one wins, so the expected bytes are built in order before comparing.
            var expected = new Dictionary<ulong, (bool Known, byte Value, ulong DevOff)>();
            ulong at = 0;
            foreach (var (off, len) in segs)
            {
                for (ulong k = 0; k < len; k++, at++)
                {
                    byte want = 0;
                    var known = at < n && _dev.TryGet((ulong)pos + at, out want);
                    expected[off + k] = (known, want, (ulong)pos + at);
                }
            }
            foreach (var (off, e) in expected)
            {
                if (!e.Known)
                {
                    _user.Forget(off);
                    continue;
                }
                var got = _p.Peek(new UserPtr(_buf.Value + off), 1)[0];
                if (got != e.Value && mismatches.Count < MaxReported)
                    mismatches.Add($"buf+0x{off:x} = {(got is { } g ? $"0x{g:x2}" : "unmapped")}, file/device offset {e.DevOff} holds 0x{e.Value:x2}");
                _user.Set(off, e.Value);
            }
            foreach (var line in poisonedDev)
                if (n > 0 && line + 64 > (ulong)pos && line < (ulong)pos + n && mismatches.Count < MaxReported)
                    mismatches.Add($"O_DIRECT read returned bytes of the poisoned line at device offset {line}");
        }
        if (!positioned && ret >= 0 && ret != Machine.NoReturn) _fpos += ret;
        if (mismatches.Count > 0) Add(i, call, ret, Outcome.SilentCorruption, string.Join("; ", mismatches));
        else Add(i, call, ret == Machine.NoReturn ? null : ret, outcome, detail);
    }

    private void UserAccess(int i, PlanStep s, string call, int sigBefore)
    {
        var ptr = new UserPtr(_buf.Value + s.Off);
        UserAccessResult r;
        byte[] data = new byte[s.Len];
        if (s.Kind == StepKind.Load) r = _p.Load(ptr, data);
        else
        {
            Array.Fill(data, s.Fill);
            r = _p.Store(ptr, data);
        }
        var mismatches = new List<string>();
        for (ulong k = 0; k < s.Len; k++)
        {
            if (s.Kind == StepKind.Load)
            {
                if (k < r.Done && _user.TryGet(s.Off + k, out var want) && data[k] != want && mismatches.Count < MaxReported)
                    mismatches.Add($"load buf+0x{s.Off + k:x} = 0x{data[k]:x2}, expected 0x{want:x2}");
            }
            else if (k < r.Done) _user.Set(s.Off + k, s.Fill);
            else _user.Forget(s.Off + k);
        }
        Outcome o;
        string detail;
        if (r.Outcome != null) { o = FromStuck(out detail); detail = r.Outcome; }
        else if (r.Signal is { } sig) o = FromSignal(sig, out detail);
        else if (r.Done > s.Len) { o = Outcome.SimBug; detail = $"user access reports {r.Done} bytes of {s.Len}"; }
        else if (r.Done == s.Len) { o = Outcome.Complete; detail = ""; }
        else { o = Outcome.ShortCount; detail = $"{r.Done} of {s.Len} bytes"; }
        _ = sigBefore;
        if (mismatches.Count > 0) Add(i, call, (long)r.Done, Outcome.SilentCorruption, string.Join("; ", mismatches));
        else Add(i, call, (long)r.Done, o, detail);
    }

    // ---- classification -------------------------------------------------------------------------------

    /// <summary>Classify a system call's result: what stopped the kernel, a signal, or the return value.</summary>
    private Outcome Classify(long ret, ulong requested, int sigBefore, out string detail)
    {
        if (ret == Machine.NoReturn) return FromStuck(out detail);
        if (_p.SignalsReceived.Count > sigBefore) return FromSignal(_p.SignalsReceived[^1], out detail, ret);
        if (_p.KilledBy is { } k) return FromSignal(k, out detail, ret);
        return FromReturn(ret, requested, out detail);
    }

    public static Outcome FromReturn(long ret, ulong requested, out string detail)
    {
        detail = "";
        if (ret < -4095 || (ret >= 0 && (ulong)ret > requested))
        {
            detail = $"out-of-range return {ret} for {requested} bytes";
            return Outcome.SimBug;
        }
        if (ret >= 0)
        {
            if ((ulong)ret == requested) return Outcome.Complete;
            detail = $"{ret} of {requested} bytes";
            return Outcome.ShortCount;
        }
        if (ret == -Errno.EFAULT) return Outcome.Efault;
        if (ret == -Errno.EIO) return Outcome.Eio;
        detail = Errno.Name(ret);
        return Outcome.OtherErrno;
    }

    private Outcome FromStuck(out string detail)
    {
        detail = _m.State.PanicMessage ?? _p.StuckReason ?? "";
        switch (_m.State.Status)
        {
            case MachineStatus.Panicked: return Outcome.Panic;
            case MachineStatus.Shutdown:
                detail = "shutdown: " + detail;
                return Outcome.Panic;
            case MachineStatus.VmStopped: return Outcome.VmStop;
        }
        switch (_p.State)
        {
            case ProcessState.Livelocked: return Outcome.Livelock;
            case ProcessState.Oopsed: return Outcome.Oops;
            case ProcessState.Killed when _p.KilledBy is { } k: return FromSignal(k, out detail);
        }
        detail = "no return with the machine and the process running";
        return Outcome.SimBug;
    }

    private static Outcome FromSignal(SigInfo s, out string detail, long? ret = null)
    {
        detail = $"{Sig.Name(s.Signo)} {Sig.CodeName(s.Signo, s.Code)} si_addr=0x{s.Addr:x}{(ret is { } r ? $" ret={Errno.Describe(r)}" : "")}";
        if (s.Signo == Sig.SIGBUS)
        {
            if (s.Code == Sig.BUS_MCEERR_AR) return Outcome.SigbusAr;
            if (s.Code == Sig.BUS_MCEERR_AO) return Outcome.SigbusAo;
            return Outcome.SigbusAdrerr;
        }
        if (s.Signo == Sig.SIGSEGV) return s.Code == Sig.SEGV_ACCERR ? Outcome.SigsegvAccerr : Outcome.SigsegvMaperr;
        return Outcome.OtherErrno;
    }

    // ---- the final check ------------------------------------------------------------------------------

    private void FinalCheck()
    {
        var idx = _plan.Steps.Count;
        if (!_m.State.Alive)
        {
            Add(idx, "final-check", null, Outcome.Complete, "skipped: the machine is down");
            return;
        }
        _m.Run(() => _m.WorkQueue.RunPending());
        var mismatches = new List<string>();
        var notes = new List<string>();
        if (_p.Alive)
        {
            var got = _p.Peek(_buf, (int)CampaignPlan.BufSize);
            for (ulong k = 0; k < CampaignPlan.BufSize && mismatches.Count < MaxReported; k++)
                if (got[k] is { } g && _user.TryGet(k, out var want) && g != want)
                    mismatches.Add($"user buffer buf+0x{k:x} = 0x{g:x2}, expected 0x{want:x2}");
        }
        if (_ramfs != null)
        {
            var data = _ramfs.ReadData("data");
            for (var k = 0; k < data.Length && mismatches.Count < MaxReported; k++)
                if (_dev.TryGet((ulong)k, out var want) && data[k] != want)
                    mismatches.Add($"file offset {k} = 0x{data[k]:x2}, expected 0x{want:x2}");
        }
        else if (_share != null)
        {
            var data = _share.Host["data"]?.ReadAll() ?? [];
            for (var k = 0; k < data.Length && mismatches.Count < MaxReported; k++)
                if (_dev.TryGet((ulong)k, out var want) && data[k] != want)
                    mismatches.Add($"host file offset {k} = 0x{data[k]:x2}, expected 0x{want:x2}");
        }
        else if (_pmem != null)
        {
            var persisted = true;
            if (_plan.Workload == WorkloadKind.PmemBuffered)
            {
                if (!_p.Alive) persisted = false;
                else
                {
                    var r = _p.Fsync(_fd);
                    notes.Add($"fsync = {Errno.Describe(r)}");
                    if (r == -Errno.EIO) foreach (var (pos, len) in _dirty) _dev.Forget(pos, len);
                    persisted = r != Machine.NoReturn && _m.State.Alive;
                }
            }
            if (persisted)
            {
                var media = new byte[CampaignPlan.Region];
                Span<byte> lineBytes = stackalloc byte[64];
                for (ulong line = 0; line < CampaignPlan.Region; line += 64)
                {
                    var dev = DevOffset(line);
                    if (dev < 0) continue;
                    _m.Phys.PeekBytes(new PhysAddr(_pmem.DataPhys((ulong)dev)), lineBytes);
                    lineBytes.CopyTo(media.AsSpan((int)line, 64));
                }
                for (ulong line = 0; line < CampaignPlan.Region && mismatches.Count < MaxReported; line += 64)
                {
                    if (DevLinePoisoned(line) || DevOffset(line) < 0) continue;
                    for (var k = line; k < line + 64; k++)
                        if (_dev.TryGet(k, out var want) && media[k] != want)
                        {
                            mismatches.Add($"media offset {k} = 0x{media[k]:x2}, expected 0x{want:x2}");
                            break;
                        }
                }
            }
            else notes.Add("media not checked (dirty pages could not be written back)");
        }
        if (mismatches.Count > 0) Add(idx, "final-check", null, Outcome.SilentCorruption, string.Join("; ", mismatches));
        else Add(idx, "final-check", null, Outcome.Complete, string.Join("; ", notes));
    }
}
