namespace KernelSim.Drivers.Pmem;

/// <summary>The result of one ndctl command line: exit status, standard output, standard error.</summary>
/// <param name="Rc">ndctl's exit status (0 on success; see <see cref="Ndctl.Run"/>).</param>
/// <param name="Stdout">What ndctl printed.</param>
/// <param name="Stderr">Error messages.</param>
public readonly record struct NdctlResult(int Rc, string Stdout, string Stderr);
