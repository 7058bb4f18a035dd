namespace KernelSim.Profiles;

/// <summary>Where <c>rep movsb</c> reports it stopped when it consumes poison (A10, WE5): hardware-defined, so a setting.</summary>
public enum FastStringMcStop
{
    /// <summary>RCX counts from the start of the poisoned 64-byte line (the natural model; default).</summary>
    PoisonedLineStart,
    /// <summary>RCX is the whole length: nothing reported as copied (the least a CPU may report).</summary>
    NothingCopied,
}

/// <summary>
/// A CPU model as the copy routines see it: X86_FEATURE_ERMS / FSRM and whether a platform quirk
/// (or mce=recovery) turned on copy_mc_fragile_key (mcsafe_key before 5.10).
/// </summary>
/// <param name="Name">Short name used by scenarios and the CLI.</param>
/// <param name="Erms">Enhanced REP MOVSB/STOSB.</param>
/// <param name="Fsrm">Fast short REP MOV (inline rep movsb in copy_user_generic, 6.4+).</param>
/// <param name="FragileQuirk">copy_mc_fragile_key / mcsafe_key enabled (Brickland/Purley quirks, A4).</param>
/// <param name="SkylakeX">INTEL_SKYLAKE_X: subject to the rep-movs poison-prefetch erratum (A11).</param>
/// <param name="McStop">Stop-point model for fast-string #MC.</param>
public sealed record CpuModel(string Name, bool Erms, bool Fsrm, bool FragileQuirk, bool SkylakeX, FastStringMcStop McStop = FastStringMcStop.PoisonedLineStart)
{
    /// <summary>A current server CPU: ERMS and FSRM, no quirk (copy_mc_enhanced_fast_string).</summary>
    public static CpuModel FastString { get; } = new("erms", Erms: true, Fsrm: true, FragileQuirk: false, SkylakeX: false);

    /// <summary>Skylake-SP "Purley" with the RAS quirk: copy_mc_fragile_key on (copy_mc_fragile).</summary>
    public static CpuModel Fragile { get; } = new("fragile", Erms: true, Fsrm: false, FragileQuirk: true, SkylakeX: true);

    /// <summary>Neither ERMS nor the quirk: copy_mc_to_kernel is plain memcpy (no recovery).</summary>
    public static CpuModel Plain { get; } = new("none", Erms: false, Fsrm: false, FragileQuirk: false, SkylakeX: false);

    /// <summary>All presets.</summary>
    public static IReadOnlyList<CpuModel> Presets { get; } = [FastString, Fragile, Plain];

    /// <summary>Finds a preset by name ("erms", "fragile", "none").</summary>
    public static bool TryGet(string? name, out CpuModel model)
    {
        foreach (var m in Presets)
        {
            if (string.Equals(m.Name, name, StringComparison.OrdinalIgnoreCase)) { model = m; return true; }
        }
        model = FastString;
        return false;
    }
}
