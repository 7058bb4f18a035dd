using KernelSim.Fs.Dax;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Random system calls with hostile arguments: kernel addresses, another process's addresses, overflowing
/// lengths, huge iovec counts, bad flags, descriptors and offsets. Each call must come back with a value in
/// its range (a count no larger than asked, −1…−4095, an address) or a machine outcome; anything else, or a
/// .NET exception (caught at the campaign boundary), is a simulator bug reported with its seed. Where a call moves
/// data the oracle can follow (the ramfs file and the user buffer) it is checked like the file workloads', and the
/// isolation oracle looks for canaries after every call (HostileWorkload.Oracle.cs).
/// </summary>
internal sealed partial class HostileWorkload : ICampaignWorkload
{
    private static readonly string[] Calls =
    [
        "read", "write", "pread64", "pwrite64", "readv", "writev", "preadv2", "pwritev2", "lseek", "mmap",
        "munmap", "mprotect", "madvise", "prctl", "load", "store", "fsync", "close", "open",
    ];

    private const int Read = 0, Write = 1, Pread = 2, Pwrite = 3, Readv = 4, Writev = 5, Preadv2 = 6, Pwritev2 = 7,
        Lseek = 8, Mmap = 9, Munmap = 10, Mprotect = 11, Madvise = 12, Prctl = 13, Load = 14, Store = 15, Fsync = 16,
        Close = 17, OpenCall = 18;

    // Symbolic address classes resolved at run time (the buffer's address is not known when the plan is drawn).
    private const ulong AddrBuf = 0xA000_0000_0000_0001, AddrBufEnd = 0xA000_0000_0000_0002, AddrOther = 0xA000_0000_0000_0003,
        AddrVec = 0xA000_0000_0000_0004;

    private static readonly ulong[] Addresses =
    [
        0, 1, 0xfff, 0x10000, AddrBuf, AddrBuf, AddrBufEnd, AddrOther, AddrVec, 0xffff_8880_0000_0000, 0xffff_ffff_8100_0000,
        PageDefs.TASK_SIZE_MAX - 1, PageDefs.TASK_SIZE_MAX, 0x7fff_ffff_ffff, 0x8000_0000_0000, ulong.MaxValue, ulong.MaxValue - 7,
    ];

    private static readonly ulong[] Lengths =
    [
        0, 1, 7, 64, 511, 512, 4096, 4097, 65536, (ulong)PageDefs.MAX_RW_COUNT, (ulong)PageDefs.MAX_RW_COUNT + 1,
        long.MaxValue, ulong.MaxValue, 1UL << 40, 0x8000_0000,
    ];

    private static readonly long[] Positions = [0, 1, 511, 4096, -1, -4096, long.MaxValue, long.MaxValue - 10, 1L << 40, long.MinValue, 16L << 20];

    private static readonly long[] Vlens = [-1, 0, 1, 2, 3, 255, 256, 1024, 1025, int.MaxValue, long.MaxValue, long.MinValue];

    private static readonly int[] Fds = [-1, 0, 1, 2, 3, 4, 5, 1023, 1024, int.MaxValue, int.MinValue];

    private static readonly string[] Paths = ["/mnt/ramfs/data", "/dev/pmem0", "/mnt/ramfs/new", "", "relative", "/nope/x", "/dev/pmem0/x", "/mnt/ramfs/"];

    private readonly SeedSession _s;
    private Machine _m = null!;
    private Process _p = null!;
    private UserPtr _buf;
    private UserPtr _vec;
    private ulong _other;

    public HostileWorkload(SeedSession session) => _s = session;

    /// <summary>/dev/pmem0, for descriptors 1 and 2.</summary>
    public void Configure(MachineBuilder builder) => builder.AddPmem(new PmemNamespaceSpec(_s.Spec.PmemSize)).AddDaxFs();

    /// <summary>A ramfs holding the seed's 64 KiB file, for descriptor 0, and another file holding a canary.</summary>
    public void Boot()
    {
        _ramfs = RamFs.Mount(_s.Machine);
        _ramfs.CreateWithData("data", ByteModel.PatternOf(_s.Plan.Seed, 0xD0D0, (int)CampaignPlan.Region));
        _ramfs.CreateWithData("secret", IsolationOracle.PatternOf(IsolationOracle.OtherFile, (int)PageDefs.PAGE_SIZE));
    }

    public int BufferMapping => Mman.MAP_PRIVATE;

    public bool Open()
    {
        _m = _s.Machine;
        _p = _s.Process;
        _buf = _s.Buf;
        _vec = _s.Vec;
        // Descriptors 0..2: the ramfs file, /dev/pmem0 buffered and O_DIRECT.
        _p.Open("/mnt/ramfs/data", Fcntl.O_RDWR);
        _p.Open("/dev/pmem0", Fcntl.O_RDWR);
        _p.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var other = _m.Spawn("other");
        _other = other.MapAnonymous(8192).Value;
        other.Store(new UserPtr(_other), IsolationOracle.PatternOf(IsolationOracle.OtherProcess, 8192));
        KernelCanary = IsolationOracle.PlaceInKernel(_m);
        _s.Oracle.Size = (CampaignPlan.Region, CampaignPlan.Region);
        return true;
    }

    /// <summary>The hostile workload draws no faults (PlanGenerator).</summary>
    public int Inject(int index, PlanStep step, List<ulong> at) => throw new InvalidOperationException($"{step.Describe()}: the hostile workload takes no faults");


    /// <summary>Draw one hostile call: Raw = [call, a0 … a5] (addresses may be symbolic).</summary>
    public static PlanStep Generate(SimRandom rng)
    {
        var call = (ulong)rng.Below((ulong)Calls.Length);
        var raw = new ulong[7];
        raw[0] = call;
        for (var k = 1; k < raw.Length; k++)
        {
            raw[k] = (k % 3) switch
            {
                1 => rng.Chance(3, 4) ? Addresses[rng.Below((ulong)Addresses.Length)] : rng.NextUInt64(),
                2 => rng.Chance(3, 4) ? Lengths[rng.Below((ulong)Lengths.Length)] : rng.Below(1 << 20),
                _ => rng.Chance(3, 4) ? (ulong)Positions[rng.Below((ulong)Positions.Length)] : rng.NextUInt64(),
            };
        }
        // Small selectors the calls interpret: descriptor, vlen, flags, path, iovec layout.
        raw[6] = rng.NextUInt64();
        return new PlanStep(StepKind.Hostile, Raw: raw);
    }

    public static string Describe(ulong[] raw)
    {
        if (raw.Length < 7) return "hostile(?)";
        var name = raw[0] < (ulong)Calls.Length ? Calls[raw[0]] : "?";
        return $"{name}(0x{raw[1]:x}, 0x{raw[2]:x}, 0x{raw[3]:x}, 0x{raw[4]:x}, 0x{raw[5]:x}; sel 0x{raw[6]:x})";
    }

    private ulong Resolve(ulong a) => a switch
    {
        AddrBuf => _buf.Value,
        AddrBufEnd => _buf.Value + CampaignPlan.BufSize - 8,
        AddrOther => _other,
        AddrVec => _vec.Value,
        _ => a,
    };

    public void Operate(int i, PlanStep s)
    {
        var raw = s.Raw!;
        var call = (int)raw[0];
        var a1 = Resolve(raw[1]);
        var len = raw[2];
        var pos = (long)raw[3];
        var a4 = Resolve(raw[4]);
        var len5 = raw[5];
        var sel = raw[6];
        var fd = Fds[sel % (ulong)Fds.Length];
        var vlen = Vlens[(sel >> 8) % (ulong)Vlens.Length];
        var flags = (int)(sel >> 16);
        var desc = _s.Call(i);
        var sigBefore = _p.SignalsReceived.Count;
        _cur = Capture(call, fd, a1, len, pos, flags, sel);
        long ret;
        ulong bound;
        switch (call)
        {
            case Read: ret = _p.Read(fd, new UserPtr(a1), len); bound = len; break;
            case Write: ret = _p.Write(fd, new UserPtr(a1), len); bound = len; break;
            case Pread: ret = _p.Pread64(fd, new UserPtr(a1), len, pos); bound = len; break;
            case Pwrite: ret = _p.Pwrite64(fd, new UserPtr(a1), len, pos); bound = len; break;
            case Readv or Writev or Preadv2 or Pwritev2:
            {
                // Half the time the array lives in the scratch page with hostile entries; else a hostile array pointer.
                var vec = a1;
                if ((sel & 0x100_0000_0000) != 0)
                {
                    Span<byte> entries = stackalloc byte[16 * 8];
                    for (var k = 0; k < 8; k++)
                    {
                        BitConverter.TryWriteBytes(entries.Slice(k * 16, 8), k % 2 == 0 ? a4 : Resolve(raw[1 + (k % 3)]));
                        BitConverter.TryWriteBytes(entries.Slice(k * 16 + 8, 8), k % 3 == 0 ? len5 : len);
                    }
                    _p.Store(_vec, entries);
                    vec = _vec.Value;
                }
                ret = call switch
                {
                    Readv => _p.Readv(fd, new UserPtr(vec), vlen),
                    Writev => _p.Writev(fd, new UserPtr(vec), vlen),
                    Preadv2 => _p.Preadv2(fd, new UserPtr(vec), vlen, pos, flags),
                    _ => _p.Pwritev2(fd, new UserPtr(vec), vlen, pos, flags),
                };
                bound = (ulong)PageDefs.MAX_RW_COUNT;
                break;
            }
            case Lseek: ret = _p.Lseek(fd, pos, flags & 7); bound = long.MaxValue; break;
            case Mmap:
            {
                ret = _p.Mmap(a1, len, flags & 0xf, (int)(sel >> 32) & ~Mman.MAP_POPULATE, fd, pos);
                bound = long.MaxValue;
                if (ret >= 0 && ret != Machine.NoReturn && ((ulong)ret % PageDefs.PAGE_SIZE != 0 || (ulong)ret >= PageDefs.TASK_SIZE_MAX))
                {
                    _s.Add(i, desc, ret, Outcome.SimBug, $"mmap returned a bad address 0x{ret:x}");
                    return;
                }
                break;
            }
            case Munmap: ret = _p.Munmap(a1, len); bound = 0; break;
            case Mprotect: ret = _p.Mprotect(a1, len, flags); bound = 0; break;
            case Madvise:
            {
                // MADV_HWPOISON is left out: it is fault injection, not a hostile argument.
                ReadOnlySpan<int> advice = [Mman.MADV_NORMAL, Mman.MADV_DONTNEED, Mman.MADV_SOFT_OFFLINE, flags, -1];
                ret = _p.Madvise(a1, len, advice[(int)((sel >> 40) % (ulong)advice.Length)]);
                bound = 0;
                break;
            }
            case Prctl: ret = _p.Prctl(flags % 64, len, a1, (ulong)pos, len5); bound = 3; break;
            case Load or Store:
            {
                var n = (int)(len % 129);
                var data = new byte[n];
                var r = call == Load ? _p.Load(new UserPtr(a1), data) : _p.Store(new UserPtr(a1), data);
                _cur = _cur with { Data = data, Done = r.Done };
                if (r.Done > (ulong)n)
                {
                    _s.Add(i, desc, (long)r.Done, Outcome.SimBug, $"user access reports {r.Done} of {n} bytes");
                    return;
                }
                ret = r.Outcome != null ? Machine.NoReturn : (long)r.Done;
                bound = (ulong)n;
                break;
            }
            case Fsync: ret = _p.Fsync(fd); bound = 0; break;
            case Close:
                // Never close the campaign's own descriptors 0..2 for good: reopen what was closed.
                ret = _p.Close(fd);
                if (ret == 0 && fd is >= 0 and <= 2) _p.Open(fd == 0 ? "/mnt/ramfs/data" : "/dev/pmem0", Fcntl.O_RDWR | (fd == 2 ? Fcntl.O_DIRECT : 0));
                bound = 0;
                break;
            default:
            {
                var path = Paths[(sel >> 24) % (ulong)Paths.Length];
                ret = _p.Open(path, flags & ~Fcntl.O_PATH);
                bound = int.MaxValue;
                if (ret >= 0 && ret != Machine.NoReturn && ret > 3) _p.Close((int)ret);
                break;
            }
        }
        Outcome o;
        string detail;
        if (ret == Machine.NoReturn)
        {
            o = !_m.State.Alive ? (_m.State.Status == MachineStatus.VmStopped ? Outcome.VmStop : Outcome.Panic)
                : _p.State switch
                {
                    ProcessState.Livelocked => Outcome.Livelock,
                    ProcessState.Oopsed => Outcome.Oops,
                    ProcessState.Killed => Outcome.SigbusAr,
                    _ => Outcome.SimBug,
                };
            detail = _m.State.PanicMessage ?? _p.StuckReason ?? (o == Outcome.SimBug ? "no return with the machine and the process running" : "");
            Finish(i, desc, Machine.NoReturn, o, detail);
            return;
        }
        if (_p.SignalsReceived.Count > sigBefore)
        {
            var sig = _p.SignalsReceived[^1];
            o = sig.Signo == Sig.SIGBUS
                ? sig.Code switch { Sig.BUS_MCEERR_AR => Outcome.SigbusAr, Sig.BUS_MCEERR_AO => Outcome.SigbusAo, _ => Outcome.SigbusAdrerr }
                : sig.Code == Sig.SEGV_ACCERR ? Outcome.SigsegvAccerr : Outcome.SigsegvMaperr;
            Finish(i, desc, ret, o, $"{Sig.Name(sig.Signo)} {Sig.CodeName(sig.Signo, sig.Code)}");
            return;
        }
        if (call == Mmap && ret >= 0) { Finish(i, desc, ret, Outcome.Complete, ""); return; }
        if (call is Lseek or OpenCall && ret >= 0) { Finish(i, desc, ret, Outcome.Complete, ""); return; }
        if (bound == 0 && ret > 0) { Finish(i, desc, ret, Outcome.SimBug, $"out-of-range return {ret}"); return; }
        o = OutcomeClassifier.FromReturn(ret, bound, out detail);
        if (o == Outcome.ShortCount && call is not (Read or Write or Pread or Pwrite or Load or Store))
        {
            o = Outcome.Complete;
            detail = "";
        }
        Finish(i, desc, ret, o, detail);
    }
}
