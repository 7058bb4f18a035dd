using KernelSim.Profiles;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>A kernel package unpacked on the host: its image, its modules and the release it belongs to.</summary>
/// <param name="Package">The Debian package name (linux-image-6.12.118+deb12-amd64-unsigned).</param>
/// <param name="Release">uname -r (the lib/modules directory name).</param>
/// <param name="Version">major.minor: the simulator profile the guest is compared with.</param>
/// <param name="Vmlinuz">Path of the kernel image.</param>
/// <param name="ModulesDir">Path of lib/modules/RELEASE.</param>
/// <param name="CacheDir">Where decompressed modules and other per-package files go.</param>
public sealed record KernelImage(string Package, string Release, KernelVersion Version, string Vmlinuz, string ModulesDir, string CacheDir);

/// <summary>Fetches and unpacks kernel packages (the seam tests replace).</summary>
public interface IKernelPackages
{
    /// <summary>The unpacked package, downloaded and cached on first use; throws <see cref="CrosscheckException"/> when it cannot be had.</summary>
    KernelImage Prepare(string package);
}

/// <summary>Boots a guest program on a kernel (the seam tests replace).</summary>
public interface IGuestRunner
{
    /// <summary>Build, boot and run <paramref name="program"/> on <paramref name="kernel"/>; never throws for a guest failure.</summary>
    GuestRunResult Run(GuestProgram program, KernelImage kernel);
}

/// <summary>How a boot ended.</summary>
public enum GuestRunOutcome
{
    /// <summary>The guest powered off after the program.</summary>
    Completed,
    /// <summary>The kernel panicked.</summary>
    Panicked,
    /// <summary>The boot did not end within the timeout (a hang).</summary>
    TimedOut,
    /// <summary>The host could not build or start the guest (gcc, QEMU, the initramfs).</summary>
    Failed,
}

/// <summary>The end of one boot: its outcome, the serial console, and a message for panics and failures.</summary>
public sealed record GuestRunResult(GuestRunOutcome Outcome, string Console, string? Message);

/// <summary>A crosscheck that cannot go on (a package that does not exist, a tool that is missing).</summary>
public sealed class CrosscheckException(string message) : Exception(message);
