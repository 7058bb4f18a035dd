using System.Globalization;
using System.Runtime.CompilerServices;

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
        return Kind switch
        {
            StepKind.Read => $"read(buf+0x{Off:x}, {Len})",
            StepKind.Write => $"write(buf+0x{Off:x}, {Len})",
            StepKind.Pread => $"pread(buf+0x{Off:x}, {Len}, {Pos})",
            StepKind.Pwrite => $"pwrite(buf+0x{Off:x}, {Len}, {Pos})",
            StepKind.Readv => Vectored("readv(", positioned: false),
            StepKind.Writev => Vectored("writev(", positioned: false),
            StepKind.Preadv => Vectored("preadv(", positioned: true),
            StepKind.Pwritev => Vectored("pwritev(", positioned: true),
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

    /// <summary>
    /// "readv([buf+0x10:20, buf+0x40:8])", "preadv([…], pos)": written straight into one string (a builder per iovec list and
    /// a string for the list were garbage per step).
    /// </summary>
    private string Vectored(string call, bool positioned)
    {
        var h = new DefaultInterpolatedStringHandler(0, 0, null, stackalloc char[256]);
        h.AppendLiteral(call);
        h.AppendLiteral("[");
        for (var i = 0; Segs != null && i + 1 < Segs.Length; i += 2)
        {
            if (i > 0) h.AppendLiteral(", ");
            h.AppendLiteral("buf+0x");
            h.AppendFormatted(Segs[i], "x");
            h.AppendLiteral(":");
            h.AppendFormatted(Segs[i + 1]);
        }
        h.AppendLiteral("]");
        if (positioned)
        {
            h.AppendLiteral(", ");
            h.AppendFormatted(Pos);
        }
        h.AppendLiteral(")");
        return h.ToStringAndClear();
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
        // "<workload>[ work=manual] kinds=[k1,k2] | step; step", measured first and written into the one string it makes.
        var workload = CampaignSpec.NameOf(Workload) ?? "";
        var len = workload.Length + (WorkManual ? WorkManualText.Length : 0) + KindsOpen.Length + KindsClose.Length;
        for (var i = 0; i < Kinds.Count; i++) len += (i > 0 ? 1 : 0) + (CampaignSpec.NameOf(Kinds[i]) ?? "").Length;
        for (var i = 0; i < stepTexts.Length; i++) len += (i == 0 ? 1 : 2) + stepTexts[i].Length;
        return string.Create(len, (Plan: this, Workload: workload, Steps: stepTexts), static (span, st) =>
        {
            var at = 0;
            Append(span, ref at, st.Workload);
            if (st.Plan.WorkManual) Append(span, ref at, WorkManualText);
            Append(span, ref at, KindsOpen);
            for (var i = 0; i < st.Plan.Kinds.Count; i++)
            {
                if (i > 0) Append(span, ref at, ",");
                Append(span, ref at, CampaignSpec.NameOf(st.Plan.Kinds[i]) ?? "");
            }
            Append(span, ref at, KindsClose);
            for (var i = 0; i < st.Steps.Length; i++)
            {
                Append(span, ref at, i == 0 ? " " : "; ");
                Append(span, ref at, st.Steps[i]);
            }
        });
    }

    private const string WorkManualText = " work=manual", KindsOpen = " kinds=[", KindsClose = "] |";

    private static void Append(Span<char> into, ref int at, string text)
    {
        text.CopyTo(into[at..]);
        at += text.Length;
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
