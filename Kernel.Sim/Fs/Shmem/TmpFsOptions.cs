namespace KernelSim.Fs;

/// <summary>Mount options of <see cref="TmpFs"/> (mount -t tmpfs).</summary>
public sealed record TmpFsOptions
{
    /// <summary>Mount point ("/mnt/tmpfs").</summary>
    public string MountPoint { get; init; } = "/mnt/tmpfs";
}
