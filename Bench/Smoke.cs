using System.Reflection;
using BenchmarkDotNet.Filters;
using BenchmarkDotNet.Running;

namespace KernelSim.Bench;

/// <summary>
/// <c>--smoke</c>: every benchmark case (or those <c>--filter</c> selects) run once in this process, without
/// BenchmarkDotNet's measurement: a new instance, its [Params] set, [GlobalSetup], one call of the benchmark, then
/// [GlobalCleanup]. It proves that each row can be measured at all (a setup that throws leaves BenchmarkDotNet's row
/// "NA" and only a log line says why) without measuring anything; .ci/bench-smoke runs it. Prints one line per case and a last line
/// "N passed, N failed"; exit code 1 when a case failed.
/// </summary>
internal static class Smoke
{
    public static int Run(string[] patterns)
    {
        var filter = patterns.Length > 0 ? new GlobFilter(patterns) : null;
        int passed = 0, failed = 0;
        foreach (var type in typeof(Program).Assembly.GetTypes().Where(IsBenchmarkClass).OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            foreach (var bc in BenchmarkConverter.TypeToBenchmarks(type).BenchmarksCases)
            {
                if (filter != null && !filter.Predicate(bc)) continue;
                var name = $"{type.Name}.{bc.Descriptor.WorkloadMethod.Name}{(bc.HasParameters ? " " + bc.Parameters.DisplayInfo : "")}";
                try
                {
                    RunOnce(type, bc);
                    passed++;
                    Console.WriteLine($"ok   {name}");
                }
                catch (Exception e)
                {
                    failed++;
                    var inner = e is TargetInvocationException { InnerException: { } ie } ? ie : e;
                    Console.WriteLine($"FAIL {name}: {inner.GetType().Name}: {inner.Message}");
                }
            }
        }
        Console.WriteLine($"{passed} passed, {failed} failed");
        return failed == 0 && passed > 0 ? 0 : 1;
    }

    private static bool IsBenchmarkClass(Type t) =>
        t is { IsClass: true, IsAbstract: false, IsPublic: true } &&
        t.GetMethods().Any(m => m.GetCustomAttribute<BenchmarkDotNet.Attributes.BenchmarkAttribute>() != null);

    private static void RunOnce(Type type, BenchmarkCase bc)
    {
        var instance = Activator.CreateInstance(type)!;
        foreach (var p in bc.Parameters.Items)
        {
            if (p.IsArgument) throw new NotSupportedException($"benchmark arguments ({p.Name}) are not run by --smoke");
            const BindingFlags any = BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Instance | BindingFlags.Static;
            if (type.GetField(p.Name, any) is { } f) f.SetValue(f.IsStatic ? null : instance, p.Value);
            else if (type.GetProperty(p.Name, any) is { } prop) prop.SetValue(instance, p.Value);
            else throw new MissingMemberException(type.Name, p.Name);
        }
        var d = bc.Descriptor;
        d.GlobalSetupMethod?.Invoke(instance, null);
        try
        {
            d.IterationSetupMethod?.Invoke(instance, null);
            d.WorkloadMethod.Invoke(instance, null);
            d.IterationCleanupMethod?.Invoke(instance, null);
        }
        finally
        {
            d.GlobalCleanupMethod?.Invoke(instance, null);
        }
    }
}
