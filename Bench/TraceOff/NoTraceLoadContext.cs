using System.Reflection;
using System.Runtime.Loader;

namespace KernelSim.Bench.TraceOff;

/// <summary>
/// A load context that runs a second copy of the application beside the default one, bound to the no-trace build of
/// Kernel.Sim: <c>Kernel.Sim</c> comes from <paramref name="kernelSimPath"/>, every other assembly of
/// <paramref name="appDirectory"/> (Fs.Dax, Drivers.Pmem, KernelSim.Scenarios, Bench …, whose IL is the same in both
/// builds) is loaded again from there so that it binds to that Kernel.Sim, and the framework is shared. Only framework
/// types (a <see cref="Func{TResult}"/>) cross between the two copies.
/// </summary>
public sealed class NoTraceLoadContext(string kernelSimPath, string appDirectory) : AssemblyLoadContext("KernelSim no-trace build")
{
    /// <inheritdoc/>
    protected override Assembly? Load(AssemblyName name)
    {
        if (name.Name == "Kernel.Sim") return LoadFromAssemblyPath(Path.GetFullPath(kernelSimPath));
        var path = Path.Combine(appDirectory, name.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null; // null: the default context's (the framework)
    }

    /// <summary>
    /// The Kernel.Sim that this context's assemblies bind to; throws unless it is a copy of its own (not the default
    /// context's) and the no-trace build, so that a run can never compare a build with itself.
    /// </summary>
    public Assembly NoTraceKernelSim()
    {
        var kernel = LoadFromAssemblyName(new AssemblyName("Kernel.Sim"));
        if (GetLoadContext(kernel) != this)
            throw new InvalidOperationException("the no-trace load context resolved Kernel.Sim to the default context's copy");
        if (Traces(kernel))
            throw new InvalidOperationException($"{kernelSimPath} is the default build (its Tracer keeps Enabled = true), " +
                "not the no-trace build (-p:KernelSimNoTrace=true): the run would compare a build with itself");
        return kernel;
    }

    /// <summary>
    /// Whether <paramref name="kernelSim"/> can trace: a new Tracer keeps <c>Enabled = true</c> in the default build;
    /// in the no-trace build <c>Enabled</c> is a constant false.
    /// </summary>
    public static bool Traces(Assembly kernelSim)
    {
        var type = kernelSim.GetType("KernelSim.Trace.Tracer", throwOnError: true)!;
        var enabled = type.GetProperty("Enabled") ?? throw new InvalidOperationException("Tracer.Enabled not found");
        var tracer = Activator.CreateInstance(type);
        enabled.SetValue(tracer, true);
        return (bool)enabled.GetValue(tracer)!;
    }
}
