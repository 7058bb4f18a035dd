using System.Reflection;
using System.Runtime.Loader;
using KernelSim.Trace;

namespace KernelSim.Bench.TraceOff;

/// <summary>One row of the trace-off comparison: a read of <see cref="PreadBenchmarks"/> in each build.</summary>
/// <param name="Name">The row as printed ("DAX 4 KiB").</param>
/// <param name="NoTraceCalls">The read in the no-trace build (the baseline).</param>
/// <param name="TracingOff">The same read in the default build, tracing off at run time.</param>
public sealed record TraceOffRow(string Name, Func<long> NoTraceCalls, Func<long> TracingOff);

/// <summary>
/// The reads compared by <see cref="TraceOffBenchmarks"/> and <see cref="TraceOffAlternate"/>: for each build, a
/// <see cref="PreadBenchmarks"/> per size is created and set up in that build's load context (the default context for
/// the default build, a <see cref="NoTraceLoadContext"/> for the no-trace build), and each read becomes a
/// <see cref="Func{TResult}"/> bound to its method with <see cref="Delegate.CreateDelegate(Type, object, MethodInfo)"/>.
/// Both builds are reached the same way, by reflection and then a delegate call, so the call cost is the same.
/// </summary>
public static class TraceOffReads
{
    private static readonly Lazy<TraceOffRow[]> AllRows = new(Create);

    /// <summary>The four rows (DAX 4 KiB, DAX 1 MiB, ramfs 4 KiB, O_DIRECT 4 KiB), set up once per process.</summary>
    public static TraceOffRow[] Rows => AllRows.Value;

    private static TraceOffRow[] Create()
    {
        NoTraceBuild.EnsureBuilt();
        if (!NoTraceLoadContext.Traces(typeof(Tracer).Assembly))
            throw new InvalidOperationException("this process's own Kernel.Sim is the no-trace build: build Bench without -p:KernelSimNoTrace");
        var benchDir = Path.GetDirectoryName(typeof(TraceOffReads).Assembly.Location)!;
        var context = new NoTraceLoadContext(NoTraceBuild.KernelSimPath, benchDir);
        context.NoTraceKernelSim();
        var bench = context.LoadFromAssemblyName(typeof(TraceOffReads).Assembly.GetName());
        if (AssemblyLoadContext.GetLoadContext(bench) != context) throw new InvalidOperationException("Bench was not loaded again in the no-trace context");

        var noTrace = Setup(bench);
        var tracingOff = Setup(typeof(TraceOffReads).Assembly);
        return
        [
            new("DAX 4 KiB", noTrace.Small.Read(nameof(PreadBenchmarks.DaxPread)), tracingOff.Small.Read(nameof(PreadBenchmarks.DaxPread))),
            new("DAX 1 MiB", noTrace.Large.Read(nameof(PreadBenchmarks.DaxPread)), tracingOff.Large.Read(nameof(PreadBenchmarks.DaxPread))),
            new("ramfs 4 KiB", noTrace.Small.Read(nameof(PreadBenchmarks.RamfsPread)), tracingOff.Small.Read(nameof(PreadBenchmarks.RamfsPread))),
            new("O_DIRECT 4 KiB", noTrace.Small.Read(nameof(PreadBenchmarks.PmemODirectPread)), tracingOff.Small.Read(nameof(PreadBenchmarks.PmemODirectPread))),
        ];
    }

    /// <summary>A 4 KiB and a 1 MiB <see cref="PreadBenchmarks"/> of <paramref name="bench"/>'s copy, set up.</summary>
    private static (Instance Small, Instance Large) Setup(Assembly bench)
    {
        var type = bench.GetType(typeof(PreadBenchmarks).FullName!, throwOnError: true)!;
        Instance New(int size)
        {
            var b = Activator.CreateInstance(type)!;
            type.GetField(nameof(PreadBenchmarks.Size))!.SetValue(b, size);
            type.GetMethod(nameof(PreadBenchmarks.Setup))!.Invoke(b, null);
            return new Instance(type, b);
        }
        return (New(4096), New(1048576));
    }

    private sealed record Instance(Type Type, object Target)
    {
        public Func<long> Read(string method) =>
            (Func<long>)Delegate.CreateDelegate(typeof(Func<long>), Target, Type.GetMethod(method)!);
    }
}
