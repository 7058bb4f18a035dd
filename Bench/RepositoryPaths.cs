using System.Runtime.CompilerServices;
using System.Security.Cryptography;
using System.Text;

namespace KernelSim.Bench;

/// <summary>The repository this Bench was built from, and the temporary directories Bench builds and publishes it into.</summary>
public static class RepositoryPaths
{
    /// <summary>The repository root (the directory holding KernelSim.sln).</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>
    /// <c>&lt;temp&gt;/<paramref name="purpose"/>/&lt;first 12 hex digits of the SHA-256 of <see cref="Root"/>&gt;</c>: one
    /// directory per repository, so worktrees do not share builds.
    /// </summary>
    public static string TempDirectory(string purpose) => Path.Combine(Path.GetTempPath(), purpose,
        Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(Root)))[..12]);

    private static string FindRoot()
    {
        // This source file's compile-time path first (works with --artifacts-path builds), then the output and working
        // directories (a build with PathMap hides the source path), as Tests' RepoFiles does.
        foreach (var start in new[] { SourceDir(), AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var d = start; !string.IsNullOrEmpty(d); d = Path.GetDirectoryName(d))
                if (File.Exists(Path.Combine(d, "KernelSim.sln"))) return d;
        }
        throw new InvalidOperationException("repository root (KernelSim.sln) not found: building it needs the sources");
    }

    private static string SourceDir([CallerFilePath] string file = "") => Path.GetDirectoryName(file) ?? "";
}
