using System.Globalization;
using System.Text;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>What one plan step does.</summary>
public enum StepKind
{
    Read, Write, Pread, Pwrite, Readv, Writev, Preadv, Pwritev, Load, Store, Fsync,
    PoisonDevice, Badblocks, StormDevice, PoisonBuffer, StormBuffer, UnmapPage, ReadonlyPage, SubpageHole, HostTruncate,
    Hostile,
}

/// <summary>
/// One step of a plan: an operation or a fault. Offsets are relative to the user buffer (Off, Segs) or to the
/// target file/device region (Pos, or Off for device faults).
/// </summary>
public sealed record PlanStep(StepKind Kind, ulong Off = 0, ulong Len = 0, long Pos = 0, ulong[]? Segs = null, ulong[]? Raw = null, byte Fill = 0)
{
    public bool IsFault => Kind is >= StepKind.PoisonDevice and < StepKind.Hostile;

    public string Describe()
    {
        var ci = CultureInfo.InvariantCulture;
        string Iov()
        {
            var sb = new StringBuilder("[");
            for (var i = 0; Segs != null && i + 1 < Segs.Length; i += 2)
            {
                if (i > 0) sb.Append(", ");
                sb.Append(ci, $"buf+0x{Segs[i]:x}:{Segs[i + 1]}");
            }
            return sb.Append(']').ToString();
        }
        return Kind switch
        {
            StepKind.Read => $"read(buf+0x{Off:x}, {Len})",
            StepKind.Write => $"write(buf+0x{Off:x}, {Len})",
            StepKind.Pread => $"pread(buf+0x{Off:x}, {Len}, {Pos})",
            StepKind.Pwrite => $"pwrite(buf+0x{Off:x}, {Len}, {Pos})",
            StepKind.Readv => $"readv({Iov()})",
            StepKind.Writev => $"writev({Iov()})",
            StepKind.Preadv => $"preadv({Iov()}, {Pos})",
            StepKind.Pwritev => $"pwritev({Iov()}, {Pos})",
            StepKind.Load => $"load(buf+0x{Off:x}, {Len})",
            StepKind.Store => $"store(buf+0x{Off:x}, {Len}, 0x{Fill:x2})",
            StepKind.Fsync => "fsync()",
            StepKind.PoisonDevice => $"poison dev+0x{Off:x}",
            StepKind.Badblocks => $"badblocks {Off}+{Len}",
            StepKind.StormDevice => $"mce-storm dev+0x{Off:x} {Len} lines stride {Pos}",
            StepKind.PoisonBuffer => $"poison buf+0x{Off:x}",
            StepKind.StormBuffer => $"mce-storm buf+0x{Off:x} {Len} lines stride {Pos}",
            StepKind.UnmapPage => $"munmap buf+0x{Off:x}",
            StepKind.ReadonlyPage => $"mprotect-ro buf+0x{Off:x}",
            StepKind.SubpageHole => $"subpage-hole buf+0x{Off:x} {Len}",
            StepKind.HostTruncate => $"host-truncate {Off}",
            StepKind.Hostile => HostileWorkload.Describe(Raw ?? []),
            _ => Kind.ToString(),
        };
    }

    /// <summary>Total bytes of the operation (iovec sum for vectored calls).</summary>
    public ulong TotalLen
    {
        get
        {
            if (Segs == null) return Len;
            ulong t = 0;
            for (var i = 1; i < Segs.Length; i += 2) t += Segs[i];
            return t;
        }
    }
}

/// <summary>
/// What one seed does: the workload, whether deferred work is delayed, the fault kinds drawn (swarm mode)
/// and the steps. The same plan runs on every profile of the campaign.
/// </summary>
public sealed record CampaignPlan(ulong Seed, WorkloadKind Workload, bool WorkManual, IReadOnlyList<FaultKind> Kinds, IReadOnlyList<PlanStep> Steps)
{
    /// <summary>The user buffer: 16 pages.</summary>
    public const ulong BufSize = 64 * 1024;

    /// <summary>The file / device region the oracle models.</summary>
    public const ulong Region = 64 * 1024;

    public string Describe() => Describe(StepTexts());

    /// <summary>Each step's <see cref="PlanStep.Describe"/>.</summary>
    internal string[] StepTexts()
    {
        var texts = new string[Steps.Count];
        for (var i = 0; i < texts.Length; i++) texts[i] = Steps[i].Describe();
        return texts;
    }

    /// <summary><see cref="Describe()"/> with the steps' descriptions given (<see cref="StepTexts"/>).</summary>
    internal string Describe(string[] stepTexts)
    {
        var sb = new StringBuilder();
        sb.Append(CampaignSpec.NameOf(Workload));
        if (WorkManual) sb.Append(" work=manual");
        sb.Append(" kinds=[").Append(string.Join(",", Kinds.Select(CampaignSpec.NameOf))).Append("] |");
        for (var i = 0; i < stepTexts.Length; i++) sb.Append(i == 0 ? " " : "; ").Append(stepTexts[i]);
        return sb.ToString();
    }

    /// <summary>A short stable id of the plan (FNV-1a 64 of its description).</summary>
    public string Id() => IdOf(Describe());

    /// <summary>The id of the plan whose <see cref="Describe()"/> is <paramref name="description"/>.</summary>
    public static string IdOf(string description)
    {
        var h = 14695981039346656037UL;
        foreach (var c in description)
        {
            h ^= c;
            h = unchecked(h * 1099511628211UL);
        }
        return h.ToString("x16", CultureInfo.InvariantCulture);
    }
}
