using KernelSim.Drivers.Pmem.LibNdctl;
using KernelSim.Kernel;

namespace KernelSim.Drivers.Pmem;

/// <summary>The ndctl program (pmem/ndctl v81) as a user-space program a process runs.</summary>
public static class Ndctl
{
    /// <summary>The modelled ndctl commands, as <c>ndctl --list-cmds</c> prints them.</summary>
    public static IReadOnlyList<string> Commands { get; } = [.. NdctlMain.CommandNames];

    /// <summary>
    /// Run one ndctl (pmem/ndctl v81) command line as the user-space program in <paramref name="process"/>: it
    /// reaches the NVDIMM subsystem only through files — the libnvdimm sysfs tree (/sys/class/nd, /sys/bus/nd,
    /// /sys/dev/char, /sys/block) read and written with open/read/write/getdents64/readlink — and the bus and DIMM
    /// ioctls on /dev/ndctlN and /dev/nmemN, as libndctl does. Returns ndctl's exit status (run_builtin's
    /// <c>status &amp; 0xff</c>: 0, 1, 129 for usage errors, 256 − errno for a failed command; 128 + the signal number, as a
    /// shell shows it, when a signal ended the program, e.g. 135 for the SIGBUS of poison in a reused buffer frame) with what it printed;
    /// bad input never throws. The line may start with "ndctl".
    /// </summary>
    /// <example><c>Ndctl.Run(p, "inject-error namespace0.0 -B 8 -n 1")</c></example>
    public static NdctlResult Run(Process process, string commandLine)
    {
        ArgumentNullException.ThrowIfNull(process);
        return NdctlMain.Run(process, commandLine ?? "");
    }
}
