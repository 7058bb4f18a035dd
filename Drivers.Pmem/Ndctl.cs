using System.Text;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>The result of one ndctl command line: exit status, standard output, standard error.</summary>
/// <param name="Rc">0 on success, 1 on failure.</param>
/// <param name="Stdout">What ndctl printed.</param>
/// <param name="Stderr">Error messages.</param>
public readonly record struct NdctlResult(int Rc, string Stdout, string Stderr);

/// <summary>
/// An ndctl-like front end (pmem/ndctl: inject-error, start-scrub, wait-scrub, clear-errors, list --media-errors)
/// over the NVDIMM bus of a machine. Block numbers are 512-byte units relative to the namespace data area (fsdax)
/// or the namespace base (raw, where data_offset is 0). Each command runs as kernel work through
/// <see cref="Machine.Run{T}(Func{T})"/>, so deferred work (notifications, ARS completion) runs per
/// <see cref="WorkQueue.Timing"/>. Methods return 0 or -errno; <see cref="Run(string)"/> parses a command line.
/// </summary>
public sealed partial class Ndctl(Machine machine)
{
    private NvdimmBus? Bus => machine.NvdimmBus();

    private int Kernel(Func<int> body)
    {
        var r = machine.Run(body);
        return r.Returned ? r.Value : -Errno.EIO;
    }

    /// <summary>
    /// ndctl inject-error --block=B --count=C [--no-notify] [--saturate] NS: one ARS_INJECT_SET per block for SPA
    /// [data + block·512, length min(512, clear_err_unit)] (512 with --saturate), with NOTIFY unless --no-notify.
    /// -ENXIO for an unknown namespace, -EINVAL for blocks outside it, -EOPNOTSUPP on a bus without injection.
    /// </summary>
    public int InjectError(string ns, long block, long count = 1, bool notify = true, bool saturate = false) => Kernel(() =>
    {
        var dev = Nvdimm.Find(machine, ns);
        if (dev == null) return -Errno.ENXIO;
        var fw = Bus!.Firmware;
        if (fw == null || !fw.SupportsInject) return -Errno.EOPNOTSUPP;
        if (block < 0 || count <= 0 || block > dev.Disk.CapacitySectors - count) return -Errno.EINVAL;
        var len = saturate ? 512UL : Math.Min(512UL, fw.ClearErrUnit);
        for (var b = block; b < block + count; b++)
        {
            var rc = fw.InjectSet(dev.DataPhys((ulong)b * 512), len, notify);
            if (rc < 0) return rc;
        }
        return 0;
    });

    /// <summary>ndctl inject-error --uninject: ARS_INJECT_CLEAR for each block (the kernel's badblocks stay).</summary>
    public int Uninject(string ns, long block, long count = 1) => Kernel(() =>
    {
        var dev = Nvdimm.Find(machine, ns);
        if (dev == null) return -Errno.ENXIO;
        var fw = Bus!.Firmware;
        if (fw == null || !fw.SupportsInject) return -Errno.EOPNOTSUPP;
        if (block < 0 || count <= 0 || block > dev.Disk.CapacitySectors - count) return -Errno.EINVAL;
        for (var b = block; b < block + count; b++)
        {
            var rc = fw.InjectClear(dev.DataPhys((ulong)b * 512), 512);
            if (rc < 0) return rc;
        }
        return 0;
    });

    /// <summary>
    /// ndctl inject-error --status: the injected errors of the namespace (ARS_INJECT_GET) as merged runs of
    /// 512-byte blocks; empty when there are none.
    /// </summary>
    public int InjectStatus(string ns, out List<(long Block, long Count)> runs)
    {
        var list = new List<(long Block, long Count)>();
        runs = list;
        return Kernel(() =>
        {
            var dev = Nvdimm.Find(machine, ns);
            if (dev == null) return -Errno.ENXIO;
            var fw = Bus!.Firmware;
            if (fw == null) return -Errno.EOPNOTSUPP;
            var rc = fw.InjectGet(out var ranges);
            if (rc < 0) return rc;
            var blocks = new SortedSet<long>();
            var dataStart = dev.DataPhys(0);
            var dataEnd = dev.PhysAddr + dev.Size;
            foreach (var r in ranges)
            {
                var s = Math.Max(r.Start, dataStart);
                var e = Math.Min(r.Start + r.Length, dataEnd);
                for (var a = s & ~511UL; a < e; a += 512)
                    if (a >= dataStart) blocks.Add((long)((a - dataStart) / 512));
            }
            foreach (var b in blocks)
            {
                if (list.Count > 0 && list[^1].Block + list[^1].Count == b) list[^1] = (list[^1].Block, list[^1].Count + 1);
                else list.Add((b, 1));
            }
            return 0;
        });
    }

    /// <summary>ndctl start-scrub: start an ARS on the bus (-EOPNOTSUPP on e820, -EBUSY while one runs).</summary>
    public int StartScrub() => Kernel(() => Bus?.ArsStart() ?? -Errno.ENXIO);

    /// <summary>ndctl wait-scrub: let the pending work (the ARS completion) run now.</summary>
    public int WaitScrub()
    {
        machine.WorkQueue.RunPending();
        return 0;
    }

    /// <summary>
    /// ndctl clear-errors NS: for every known bad range of the data area (the disk's badblocks), write zeros through
    /// the pmem driver in page-sized pieces — which clears the firmware error, the media poison and the badblocks
    /// (the cleared data becomes zeros). Returns 0, or -EIO if a piece failed.
    /// </summary>
    public int ClearErrors(string ns) => Kernel(() =>
    {
        var dev = Nvdimm.Find(machine, ns);
        if (dev == null) return -Errno.ENXIO;
        var err = 0;
        foreach (var e in dev.Bb.Entries.ToArray())
        {
            var sector = e.Start;
            var left = (long)e.Length;
            while (left > 0)
            {
                var n = (int)Math.Min(left, (long)(PageDefs.PAGE_SIZE >> 9));
                var zero = (ulong)(machine.KernelMap.Pa(ZeroPage())!.Value.Pfn);
                if (dev.DoWrite(zero, 0, sector, (uint)(n << 9)) != Block.BlkStatus.BLK_STS_OK) err = -Errno.EIO;
                sector += n;
                left -= n;
            }
        }
        return err;
    });

    private KernelPtr? _zero;

    private KernelPtr ZeroPage() => _zero ??= machine.Kmalloc(PageDefs.PAGE_SIZE)!.Value;

    /// <summary>
    /// ndctl list --media-errors for a namespace: the region badblocks translated to the namespace data area, as
    /// {offset, length} runs in 512-byte units plus their total (badblock_count).
    /// </summary>
    public List<(long Offset, long Length)> MediaErrors(string ns)
    {
        var list = new List<(long, long)>();
        var dev = Nvdimm.Find(machine, ns);
        if (dev == null) return list;
        var nsStart = (long)((dev.DataPhys(0) - dev.Region.Start) / 512);
        var nsEnd = nsStart + dev.Disk.CapacitySectors;
        foreach (var e in dev.Region.Bb.Entries)
        {
            var s = Math.Max(e.Start, nsStart);
            var end = Math.Min(e.Start + e.Length, nsEnd);
            if (s < end) list.Add((s - nsStart, end - s));
        }
        return list;
    }

    /// <summary>ndctl list --media-errors -n NS as JSON text (dev, mode, blockdev, badblock_count, badblocks).</summary>
    public string ListMediaErrors(string ns)
    {
        var dev = Nvdimm.Find(machine, ns);
        if (dev == null) return "";
        var errs = MediaErrors(ns);
        long total = 0;
        foreach (var (_, l) in errs) total += l;
        var sb = new StringBuilder();
        sb.Append("{\n");
        sb.Append($"  \"dev\":\"{dev.NamespaceName}\",\n");
        sb.Append($"  \"mode\":\"{(dev.Mode == NamespaceMode.Fsdax ? "fsdax" : "raw")}\",\n");
        sb.Append($"  \"size\":{dev.Disk.SizeBytes},\n");
        sb.Append($"  \"blockdev\":\"{dev.Disk.Name}\",\n");
        sb.Append($"  \"badblock_count\":{total}");
        if (errs.Count > 0)
        {
            sb.Append(",\n  \"badblocks\":[\n");
            for (var i = 0; i < errs.Count; i++)
            {
                sb.Append($"    {{\n      \"offset\":{errs[i].Item1},\n      \"length\":{errs[i].Item2}\n    }}");
                sb.Append(i + 1 < errs.Count ? ",\n" : "\n");
            }
            sb.Append("  ]");
        }
        sb.Append("\n}\n");
        return sb.ToString();
    }

    /// <summary>
    /// Run one ndctl command line: "inject-error NS --block=B --count=C [--no-notify|-N] [--uninject|-d]
    /// [--status|-S] [--saturate]", "start-scrub", "wait-scrub", "clear-errors NS", "list --media-errors -n NS"
    /// (options also as "--block B", "-B B", "-n C"). Bad usage gives rc 1 and a message, never an exception.
    /// </summary>
    public NdctlResult Run(string commandLine)
    {
        var args = (commandLine ?? "").Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
        if (args.Length == 0) return new NdctlResult(1, "", "usage: ndctl <command> [<args>]\n");
        var cmd = args[0];
        string? ns = null;
        long? block = null, count = null;
        bool noNotify = false, uninject = false, status = false, saturate = false, media = false;
        for (var i = 1; i < args.Length; i++)
        {
            var a = args[i];
            string? Value(string name)
            {
                if (a.StartsWith(name + "=", StringComparison.Ordinal)) return a[(name.Length + 1)..];
                if (a == name && i + 1 < args.Length) return args[++i];
                return null;
            }
            string? v;
            if ((v = Value("--block")) != null || (v = Value("-B")) != null)
            {
                if (!long.TryParse(v, out var b)) return Usage(cmd, $"invalid --block '{v}'");
                block = b;
            }
            else if ((v = Value("--count")) != null || (cmd == "inject-error" && (v = Value("-n")) != null))
            {
                if (!long.TryParse(v, out var c)) return Usage(cmd, $"invalid --count '{v}'");
                count = c;
            }
            else if ((v = Value("--namespace")) != null || (cmd == "list" && (v = Value("-n")) != null)) ns = v;
            else if (a is "--no-notify" or "-N") noNotify = true;
            else if (a is "--uninject" or "-d") uninject = true;
            else if (a is "--status" or "-S") status = true;
            else if (a is "--saturate") saturate = true;
            else if (a is "--media-errors" or "-M") media = true;
            else if (!a.StartsWith('-') && ns == null) ns = a;
            else return Usage(cmd, $"unknown option '{a}'");
        }
        switch (cmd)
        {
            case "inject-error":
            {
                if (ns == null) return Usage(cmd, "namespace required");
                if (status)
                {
                    var rc = InjectStatus(ns, out var runs);
                    if (rc < 0) return Fail(cmd, ns, rc);
                    if (runs.Count == 0) return new NdctlResult(0, "", "");
                    var sb = new StringBuilder("{\n  \"badblocks\":[\n");
                    for (var i = 0; i < runs.Count; i++)
                        sb.Append($"    {{\n      \"block\":{runs[i].Block},\n      \"count\":{runs[i].Count}\n    }}{(i + 1 < runs.Count ? "," : "")}\n");
                    sb.Append("  ]\n}\n");
                    return new NdctlResult(0, sb.ToString(), "");
                }
                if (block == null) return Usage(cmd, "--block required");
                var r = uninject ? Uninject(ns, block.Value, count ?? 1) : InjectError(ns, block.Value, count ?? 1, !noNotify, saturate);
                return r < 0 ? Fail(cmd, ns, r) : new NdctlResult(0, "", "");
            }
            case "start-scrub":
            {
                var r = StartScrub();
                return r < 0 ? Fail(cmd, "ndbus0", r) : new NdctlResult(0, "", "");
            }
            case "wait-scrub":
                WaitScrub();
                return new NdctlResult(0, "", "");
            case "clear-errors":
            {
                if (ns == null) return Usage(cmd, "namespace required");
                var r = ClearErrors(ns);
                return r < 0 ? Fail(cmd, ns, r) : new NdctlResult(0, "", "");
            }
            case "list":
            {
                if (!media || ns == null) return Usage(cmd, "only 'list --media-errors -n <namespace>' is modelled");
                var text = ListMediaErrors(ns);
                return text.Length == 0 ? Fail(cmd, ns, -Errno.ENXIO) : new NdctlResult(0, text, "");
            }
            default:
                return new NdctlResult(1, "", $"ndctl: '{cmd}' is not an ndctl command\n");
        }
    }

    private static NdctlResult Usage(string cmd, string msg) => new(1, "", $"{cmd}: {msg}\n");

    private static NdctlResult Fail(string cmd, string dev, long rc) =>
        new(1, "", $"error {cmd}: {dev}: {Errno.Name(rc)} ({rc})\n");
}
