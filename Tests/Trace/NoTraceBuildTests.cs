using System.Diagnostics;
using System.Text.RegularExpressions;
using KernelSim.Bench.TraceOff;
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
/// the one these tests run, still traces. Bench's BuildLoadContext (linked into Tests) loads a second copy of the
/// application bound to a given Kernel.Sim and refuses the default build where the no-trace build is expected.
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

    [Test]
    public void BuildLoadContext_BindsItsOwnCopies_AndRefusesTheDefaultBuildAsTheNoTraceBuild()
    {
        var dir = TestContext.CurrentContext.TestDirectory;
        var context = new BuildLoadContext(typeof(Tracer).Assembly.Location, dir, "default build, test copy");

        // What Bench's TraceOffReads checks before it sets up a copy: a run can never compare a build with itself.
        var e = Assert.Throws<InvalidOperationException>(() => context.KernelSim(traces: false));
        Assert.That(e!.Message, Does.Contain("is the default build (its Tracer keeps Enabled = true)"));

        var kernel = context.KernelSim(traces: true);
        Assert.That(kernel, Is.Not.SameAs(typeof(Tracer).Assembly), "a copy of its own, not the default context's");
        Assert.That(BuildLoadContext.Traces(kernel), Is.True);
        // An assembly that binds to Kernel.Sim is loaded again and binds to the context's copy.
        var fsDax = context.LoadFromAssemblyName(typeof(DaxFs).Assembly.GetName());
        Assert.That(fsDax, Is.Not.SameAs(typeof(DaxFs).Assembly));
        var machine = fsDax.GetType(typeof(DaxFs).FullName!, throwOnError: true)!.GetMethod(nameof(DaxFs.FormatAndMount))!.GetParameters()[0].ParameterType;
        Assert.That(machine.FullName, Is.EqualTo(typeof(Machine).FullName));
        Assert.That(machine.Assembly, Is.SameAs(kernel), "Fs.Dax's copy binds to the context's Kernel.Sim");
        // The framework is shared, so a Func<long> crosses between copies.
        Assert.That(context.LoadFromAssemblyName(typeof(Func<long>).Assembly.GetName()), Is.SameAs(typeof(Func<long>).Assembly));
    }
}
