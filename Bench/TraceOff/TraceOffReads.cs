using System.Reflection;
using KernelSim.Trace;

namespace KernelSim.Bench.TraceOff;

/// <summary>One row of the trace-off comparison: a read of <see cref="PreadBenchmarks"/>, per copy of each build.</summary>
/// <param name="Name">The row as printed ("DAX 4 KiB").</param>
/// <param name="NoTraceCalls">The read in each copy of the no-trace build (the baseline).</param>
/// <param name="TracingOff">The same read in each copy of the default build, tracing off at run time.</param>
public sealed record TraceOffRow(string Name, Func<long>[] NoTraceCalls, Func<long>[] TracingOff);

/// <summary>
/// The reads compared by <see cref="TraceOffBenchmarks"/> and <see cref="TraceOffAlternate"/>. Each build runs in
/// copies of the application, each in a <see cref="BuildLoadContext"/> of its own (the default build too, so that
/// both builds are loaded, compiled and called the same way); in each copy a <see cref="PreadBenchmarks"/> per size is
/// created and set up, and each read becomes a <see cref="Func{TResult}"/> bound to its method with
/// <see cref="Delegate.CreateDelegate(Type, object, MethodInfo)"/>. Several copies per build average out where the
/// JIT put each copy's code and where the GC put its buffers, which moves a read by a few per cent either way.
/// </summary>
public static class TraceOffReads
{
    /// <summary>The four rows (DAX 4 KiB, DAX 1 MiB, ramfs 4 KiB, O_DIRECT 4 KiB) with <paramref name="copies"/> copies per build.</summary>
    public static TraceOffRow[] Create(int copies)
    {
        NoTraceBuild.EnsureBuilt();
        if (!BuildLoadContext.Traces(typeof(Tracer).Assembly))
            throw new InvalidOperationException("this process's own Kernel.Sim is the no-trace build: build Bench without -p:KernelSimNoTrace");
        var benchDir = Path.GetDirectoryName(typeof(TraceOffReads).Assembly.Location)!;
        var defaultKernelSim = typeof(Tracer).Assembly.Location;
        // Copies set up alternately (no-trace, default, no-trace …), so that neither build gets all the early memory.
        var noTrace = new Copy[copies];
        var tracingOff = new Copy[copies];
        for (var c = 0; c < copies; c++)
        {
            noTrace[c] = Load(new BuildLoadContext(NoTraceBuild.KernelSimPath, benchDir, $"no-trace build, copy {c}"), traces: false);
            tracingOff[c] = Load(new BuildLoadContext(defaultKernelSim, benchDir, $"default build, copy {c}"), traces: true);
        }
        TraceOffRow Row(string name, Func<Copy, Instance> instance, string method) =>
            new(name, noTrace.Select(c => instance(c).Read(method)).ToArray(), tracingOff.Select(c => instance(c).Read(method)).ToArray());
        return
        [
            Row("DAX 4 KiB", c => c.Small, nameof(PreadBenchmarks.DaxPread)),
            Row("DAX 1 MiB", c => c.Large, nameof(PreadBenchmarks.DaxPread)),
            Row("ramfs 4 KiB", c => c.Small, nameof(PreadBenchmarks.RamfsPread)),
            Row("O_DIRECT 4 KiB", c => c.Small, nameof(PreadBenchmarks.PmemODirectPread)),
        ];
    }

    /// <summary>Bench in <paramref name="context"/>, checked to bind to the expected build, with a 4 KiB and a 1 MiB <see cref="PreadBenchmarks"/> set up.</summary>
    private static Copy Load(BuildLoadContext context, bool traces)
    {
        context.KernelSim(traces);
        var bench = context.LoadFromAssemblyName(typeof(TraceOffReads).Assembly.GetName());
        if (System.Runtime.Loader.AssemblyLoadContext.GetLoadContext(bench) != context)
            throw new InvalidOperationException($"Bench was not loaded again in '{context.Name}'");
        var type = bench.GetType(typeof(PreadBenchmarks).FullName!, throwOnError: true)!;
        Instance New(int size)
        {
            var b = Activator.CreateInstance(type)!;
            type.GetField(nameof(PreadBenchmarks.Size))!.SetValue(b, size);
            type.GetMethod(nameof(PreadBenchmarks.Setup))!.Invoke(b, null);
            return new Instance(type, b);
        }
        return new Copy(New(4096), New(1048576));
    }

    private sealed record Copy(Instance Small, Instance Large);

    private sealed record Instance(Type Type, object Target)
    {
        public Func<long> Read(string method) =>
            (Func<long>)Delegate.CreateDelegate(typeof(Func<long>), Target, Type.GetMethod(method)!);
    }
}
