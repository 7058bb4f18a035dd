using System.Runtime.CompilerServices;

namespace KernelSim.Tests.Cli;

/// <summary>Finds files of the repository (docs/) from a test, wherever the build output lives.</summary>
public static class RepoFiles
{
    /// <summary>The repository root: the directory holding KernelSim.sln.</summary>
    public static string Root { get; } = FindRoot();

    /// <summary>Absolute path of a repository-relative path ("docs/demo-output.txt").</summary>
    public static string Path(string relative) => System.IO.Path.Combine(Root, relative);

    private static string FindRoot()
    {
        // This source file's compile-time path first (works with --artifacts-path builds), then the test and
        // working directories (a build with PathMap hides the source path).
        foreach (var start in new[] { SourceDir(), TestContext.CurrentContext.TestDirectory, Environment.CurrentDirectory })
        {
            for (var d = start; !string.IsNullOrEmpty(d); d = System.IO.Path.GetDirectoryName(d))
                if (File.Exists(System.IO.Path.Combine(d, "KernelSim.sln"))) return d;
        }
        throw new InvalidOperationException("repository root (KernelSim.sln) not found");
    }

    private static string SourceDir([CallerFilePath] string file = "") => System.IO.Path.GetDirectoryName(file) ?? "";
}
