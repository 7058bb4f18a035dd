using System.Diagnostics;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>Host tools run with an argument list (no shell) and a time bound.</summary>
internal static class Tools
{
    /// <summary>Whether an executable is on PATH.</summary>
    public static string? Which(string name) =>
        (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>Run a tool; throws <see cref="CrosscheckException"/> with its stderr when it fails.</summary>
    public static void Run(string tool, string cwd, TimeSpan timeout, params string[] args) => Start(tool, cwd, timeout, args, binary: false);

    /// <summary>Run a tool and return its stdout bytes.</summary>
    public static byte[] Output(string tool, params string[] args) => Start(tool, Environment.CurrentDirectory, TimeSpan.FromMinutes(2), args, binary: true);

    private static byte[] Start(string tool, string cwd, TimeSpan timeout, string[] args, bool binary)
    {
        if (Which(tool) == null) throw new CrosscheckException($"{tool} is not installed (.ci/crosscheck installs what the crosscheck needs)");
        var psi = new ProcessStartInfo(tool) { WorkingDirectory = cwd, RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        p.StandardInput.Close();
        using var ms = new MemoryStream();
        var outTask = p.StandardOutput.BaseStream.CopyToAsync(ms);
        var errTask = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new CrosscheckException($"{tool} {string.Join(' ', args)}: no result after {timeout.TotalSeconds:0} s");
        }
        outTask.Wait();
        var err = errTask.Result;
        if (p.ExitCode != 0) throw new CrosscheckException($"{tool} {string.Join(' ', args)} failed ({p.ExitCode}): {err.Trim()}");
        _ = binary;
        return ms.ToArray();
    }
}
