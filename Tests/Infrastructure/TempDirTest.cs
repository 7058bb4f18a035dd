namespace KernelSim.Tests.Infrastructure;

/// <summary>Base for tests that write input files: a fresh temporary directory per test, removed afterwards.</summary>
public abstract class TempDirTest
{
    /// <summary>The test's directory.</summary>
    protected string Dir { get; private set; } = "";

    [SetUp]
    public void CreateTempDir()
    {
        // Test IDs repeat across test processes, so the process id keeps concurrent runs apart.
        Dir = Path.Combine(Path.GetTempPath(), $"kernelsim-test-{Environment.ProcessId}-{TestContext.CurrentContext.Test.ID}");
        Directory.CreateDirectory(Dir);
    }

    [TearDown]
    public void DeleteTempDir()
    {
        if (Directory.Exists(Dir)) Directory.Delete(Dir, recursive: true);
    }

    /// <summary>Write a file into the test's directory and return its path.</summary>
    protected string Write(string name, string text)
    {
        var p = Path.Combine(Dir, name);
        File.WriteAllText(p, text);
        return p;
    }
}
