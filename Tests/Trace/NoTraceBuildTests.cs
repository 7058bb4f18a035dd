using System.Diagnostics;
using System.Text.RegularExpressions;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Tests.Cli;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Tests.Trace;

/// <summary>
/// The no-trace build switch (issue 17: tracing off is measured against a build with no trace calls): the MSBuild
/// property that Bench's NoTraceBuild passes defines KERNELSIM_NOTRACE in Kernel.Sim, and the default build,
/// the one these tests run, still traces.
/// </summary>
public class NoTraceBuildTests
{
    /// <summary>DefineConstants of Kernel.Sim as MSBuild evaluates it (no build) with the given global properties.</summary>
    private static string DefineConstants(params string[] properties)
    {
        var psi = new ProcessStartInfo(Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = RepoFiles.Root,
        };
        foreach (var a in new[] { "msbuild", RepoFiles.Path("Kernel.Sim/Kernel.Sim.csproj"), "-getProperty:DefineConstants", "-p:Configuration=Release" }.Concat(properties))
            psi.ArgumentList.Add(a);
        using var p = System.Diagnostics.Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        Assert.That(p.WaitForExit(120_000), Is.True, "dotnet msbuild did not finish");
        Assert.That(p.ExitCode, Is.Zero, stdout.Result + stderr.Result);
        return stdout.Result.Trim();
    }

    [Test]
    public void BenchNoTraceArgument_DefinesKERNELSIM_NOTRACE_AndTheDefaultBuildDoesNot()
    {
        // The argument as NoTraceBuild passes it to dotnet build, so that renaming the property on one side fails here.
        var source = File.ReadAllText(RepoFiles.Path("Bench/TraceOff/NoTraceBuild.cs"));
        var m = Regex.Match(source, "NoTraceArgument = \"/p:(?<name>\\w+)=true\"");
        Assert.That(m.Success, Is.True, "NoTraceBuild.NoTraceArgument not found");
        Assert.That(m.Groups["name"].Value, Is.EqualTo("KernelSimNoTrace"));

        Assert.That(DefineConstants($"-p:{m.Groups["name"].Value}=true").Split(';'), Does.Contain("KERNELSIM_NOTRACE"));
        Assert.That(DefineConstants().Split(';'), Does.Not.Contain("KERNELSIM_NOTRACE"));
    }

    [Test]
    public void DefaultBuild_TracerKeepsFramesAndEvents()
    {
        var t = new Tracer { Enabled = true };
        Assert.That(t.Enabled, Is.True, "this build has no tracing (KERNELSIM_NOTRACE): tests must run the default build");
        using (t.Fn("dax_iomap_rw", "fs")) t.Event("#MC", "pa 0x1000");
        Assert.That(t.Records, Is.EqualTo(new[]
        {
            new TraceRecord(0, TraceKind.Enter, 0, "dax_iomap_rw", "fs", null),
            new TraceRecord(1, TraceKind.Event, 1, "#MC", "fs", "pa 0x1000"),
            new TraceRecord(2, TraceKind.Exit, 0, "dax_iomap_rw", "fs", null),
        }));
    }

    [Test]
    public void DefaultBuild_DaxPreadIsTracedWhenOn_AndNotWhenOff()
    {
        foreach (var on in new[] { true, false })
        {
            var m = new MachineBuilder().WithKernel("6.12").WithTrace(on).AddPmem(new PmemNamespaceSpec(16UL << 20)).AddDaxFs().Build();
            var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = DaxMode.Always });
            var p = m.Spawn("reader");
            var buf = p.MapAnonymous(4096);
            var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
            Assert.That(p.Pwrite64(fd, buf, 4096, 0), Is.EqualTo(4096));
            m.Tracer.Clear();
            Assert.That(p.Pread64(fd, buf, 4096, 0), Is.EqualTo(4096));
            var entered = m.Tracer.Records.Where(r => r.Kind == TraceKind.Enter).Select(r => r.Name).ToList();
            if (on) Assert.That(entered, Does.Contain("dax_iomap_rw").And.Contain("copy_mc_to_user"));
            else Assert.That(m.Tracer.Records, Is.Empty);
        }
    }
}
