using System.Reflection;
using System.Runtime.Loader;

namespace KernelSim.Bench.TraceOff;

/// <summary>
/// A load context that runs a copy of the application bound to one build of Kernel.Sim: <c>Kernel.Sim</c> comes from
/// <paramref name="kernelSimPath"/> (the no-trace build, or the default build's own file), every other assembly of
/// <paramref name="appDirectory"/> (Fs.Dax, Drivers.Pmem, KernelSim.Scenarios, Bench …, whose IL is the same in both
/// builds) is loaded again from there so that it binds to that Kernel.Sim, and the framework is shared. Only framework
/// types (a <see cref="Func{TResult}"/>) cross between copies. Each copy has its own JIT-compiled code and its own
/// objects, so two copies of the same build differ only in where their code and data landed.
/// </summary>
public sealed class BuildLoadContext(string kernelSimPath, string appDirectory, string name) : AssemblyLoadContext(name)
{
    /// <inheritdoc/>
    protected override Assembly? Load(AssemblyName assembly)
    {
        if (assembly.Name == "Kernel.Sim") return LoadFromAssemblyPath(Path.GetFullPath(kernelSimPath));
        var path = Path.Combine(appDirectory, assembly.Name + ".dll");
        return File.Exists(path) ? LoadFromAssemblyPath(path) : null; // null: the default context's (the framework)
    }

    /// <summary>
    /// The Kernel.Sim that this context's assemblies bind to; throws unless it is a copy of its own (not the default
    /// context's) and the build asked for (<paramref name="traces"/> false: the no-trace build), so that a run can
    /// never compare a build with itself.
    /// </summary>
    public Assembly KernelSim(bool traces)
    {
        var kernel = LoadFromAssemblyName(new AssemblyName("Kernel.Sim"));
        if (GetLoadContext(kernel) != this)
            throw new InvalidOperationException($"load context '{Name}' resolved Kernel.Sim to another context's copy");
        if (Traces(kernel) != traces)
            throw new InvalidOperationException(traces
                ? $"{kernelSimPath} is the no-trace build (its Tracer.Enabled stays false), where the default build was expected"
                : $"{kernelSimPath} is the default build (its Tracer keeps Enabled = true), not the no-trace build " +
                  "(-p:KernelSimNoTrace=true): the run would compare a build with itself");
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
