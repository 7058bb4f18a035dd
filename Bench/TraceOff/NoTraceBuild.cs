using System.Diagnostics;

namespace KernelSim.Bench.TraceOff;

/// <summary>
/// The no-trace build of Kernel.Sim (KERNELSIM_NOTRACE: <c>Tracer.Enabled</c> is a constant false and <c>Tracer.Fn</c>
/// returns an empty scope, so the JIT removes every trace call), built on demand, once per process, when the trace-off
/// benchmarks run (<see cref="Program"/> builds it before BenchmarkDotNet starts when they are selected).
/// </summary>
/// <remarks>
/// Why on demand and not part of Bench's build: CI builds and tests the whole solution, Bench included, and a second
/// build of Kernel.Sim on every solution build would make it slower and, with two builds of one project in one
/// MSBuild graph, racy. Here it is a separate <c>dotnet build</c> of Kernel.Sim alone, into a directory outside the
/// repository with its own intermediate directory (--artifacts-path: its bin/ and obj/ are there, so it never shares
/// Kernel.Sim/obj with the normal build, and the SDK keeps Kernel.Sim/obj's generated sources out of its globs); it runs only when a run asks for the trace-off figures, and is
/// incremental after the first time. Only Kernel.Sim differs between the builds: KERNELSIM_NOTRACE is defined in
/// Kernel.Sim.csproj alone, so the other assemblies are the same files loaded again (see
/// <see cref="BuildLoadContext"/>).
/// </remarks>
public static class NoTraceBuild
{
    /// <summary>The MSBuild property that compiles the trace calls out (Kernel.Sim.csproj).</summary>
    public const string NoTraceArgument = "/p:KernelSimNoTrace=true";

    /// <summary>Where the no-trace build goes: the temporary directory, one folder per repository (worktrees differ).</summary>
    public static string OutputDirectory { get; } = RepositoryPaths.TempDirectory("kernelsim-notrace");

    /// <summary>The no-trace Kernel.Sim.dll that <see cref="Build"/> writes.</summary>
    public static string KernelSimPath => Path.Combine(OutputDirectory, "bin", "Kernel.Sim", "release", "Kernel.Sim.dll");

    private static readonly Lazy<bool> Built = new(() =>
    {
        Build();
        return true;
    });

    /// <summary>Builds the no-trace Kernel.Sim once per process (an incremental build after the first time).</summary>
    public static void EnsureBuilt() => _ = Built.Value;

    /// <summary>
    /// <c>dotnet build Kernel.Sim/Kernel.Sim.csproj -c Release /p:KernelSimNoTrace=true</c> into <see cref="OutputDirectory"/>;
    /// throws if the build fails, so that a run never measures a stale or missing build.
    /// </summary>
    private static void Build()
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet") { UseShellExecute = false };
        foreach (var a in new[]
                 {
                     "build", Path.Combine(RepositoryPaths.Root, "Kernel.Sim", "Kernel.Sim.csproj"), "-c", "Release", NoTraceArgument,
                     "--artifacts-path", OutputDirectory,
                     "-nologo", "-v:q",
                 })
            psi.ArgumentList.Add(a);
        Console.WriteLine($"// building the no-trace Kernel.Sim: dotnet {string.Join(' ', psi.ArgumentList)}");
        using var p = Process.Start(psi) ?? throw new InvalidOperationException("dotnet build did not start");
        p.WaitForExit();
        if (p.ExitCode != 0 || !File.Exists(KernelSimPath))
            throw new InvalidOperationException($"the no-trace build of Kernel.Sim failed (exit code {p.ExitCode})");
    }
}
