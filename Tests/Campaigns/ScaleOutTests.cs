using System.Diagnostics;
using KernelSim.Cli.Commands;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// Scale-out on batch engines: the shard comes from the engine's variables, and the shipped Kubernetes manifest
/// and Slurm scripts, run locally with those variables, merge to exactly the single run.
/// </summary>
public class ScaleOutTests : TempDirTest
{
    private static readonly string[] Compared = ["results.jsonl", "plans.jsonl", "summary.csv", "chart.svg"];

    private string Sub(string name) => Path.Combine(Dir, name);

    /// <summary>The example campaign with 12 seeds (the shipped scripts run a campaign's own seed range).</summary>
    private string SmallCampaign() =>
        Write("small.yaml", File.ReadAllText(RepoFiles.Path("campaigns/example.yaml")).Replace("seeds: 1..200", "seeds: 1..12", StringComparison.Ordinal));

    /// <summary>An executable `kernelsim` (the scripts take one program): dotnet kernelsim.dll "$@".</summary>
    private string KernelsimWrapper()
    {
        var dotnet = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH") ?? "dotnet";
        var path = Write("kernelsim", $"#!/bin/sh\nexec '{dotnet}' '{typeof(KernelSim.Cli.CliApp).Assembly.Location}' \"$@\"\n");
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        return path;
    }

    private static Process Start(string file, IEnumerable<string> args, IDictionary<string, string> env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    private static void WaitAll(IEnumerable<Process> processes)
    {
        foreach (var p in processes)
        {
            var stdout = p.StandardOutput.ReadToEndAsync();
            var stderr = p.StandardError.ReadToEndAsync();
            Assert.That(p.WaitForExit(300_000), Is.True);
            Assert.That(p.ExitCode, Is.Zero, stdout.Result + stderr.Result);
            p.Dispose();
        }
    }

    private void AssertSameAsSingleRun(string campaign, string merged)
    {
        var (code, output, err) = CliRun.Invoke("campaign", campaign, "--jobs", "2", "--out", Sub("single"));
        Assert.That(code, Is.Zero, output + err);
        foreach (var f in Compared)
            Assert.That(File.ReadAllText(Path.Combine(merged, f)), Is.EqualTo(File.ReadAllText(Path.Combine(Sub("single"), f))), f);
        Assert.That(CampaignJson.ParseManifest(File.ReadAllText(Path.Combine(merged, "campaign.json"))).Status, Is.EqualTo("complete"));
    }

    [Test]
    public void KubernetesIndexedJob_ThreePodsLocally_MergeEqualsTheSingleRun()
    {
        // The container command of the shipped manifest, with the image's paths mapped to this machine.
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(RepoFiles.Path("deploy/kubernetes/campaign-indexed-job.yaml"))));
        var spec = (YamlMappingNode)((YamlMappingNode)stream.Documents[0].RootNode)["spec"];
        Assert.That(((YamlScalarNode)spec["completionMode"]).Value, Is.EqualTo("Indexed"));
        var completions = ((YamlScalarNode)spec["completions"]).Value;
        var container = (YamlMappingNode)((YamlSequenceNode)((YamlMappingNode)((YamlMappingNode)spec["template"])["spec"])["containers"])[0];
        var env = ((YamlSequenceNode)container["env"]).Cast<YamlMappingNode>().ToDictionary(e => ((YamlScalarNode)e["name"]).Value!, e => ((YamlScalarNode)e["value"]).Value!);
        Assert.That(env["KERNELSIM_SHARDS"], Is.EqualTo(completions), "KERNELSIM_SHARDS must equal the Job's completions");
        var script = ((YamlScalarNode)((YamlSequenceNode)container["args"])[0]).Value!
            .Replace("dotnet /app/kernelsim.dll", KernelsimWrapper(), StringComparison.Ordinal)
            .Replace("/results", Sub("results"), StringComparison.Ordinal);

        const int pods = 3;
        var campaign = SmallCampaign();
        WaitAll(Enumerable.Range(0, pods).Select(i => Start("sh", ["-c", script], new Dictionary<string, string>
        {
            ["JOB_COMPLETION_INDEX"] = i.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["KERNELSIM_SHARDS"] = pods.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["CAMPAIGN"] = campaign,
        })).ToList());
        for (var i = 0; i < pods; i++)
        {
            var header = CampaignJson.ParseHeader(File.ReadLines(Path.Combine(Sub("results"), $"shard-{i}", "results.jsonl")).First());
            Assert.That(header.Shard, Is.EqualTo(new ShardOf(i, pods)));
        }
        var (code, output, err) = CliRun.Invoke(["merge", .. Enumerable.Range(0, pods).Select(i => Path.Combine(Sub("results"), $"shard-{i}")), "--out", Sub("merged")]);
        Assert.That(code, Is.Zero, output + err);
        AssertSameAsSingleRun(campaign, Sub("merged"));
    }

    [Test]
    public void SlurmArray_TwoTasksAndTheMergeScript_EqualTheSingleRun()
    {
        const int tasks = 2;
        var campaign = SmallCampaign();
        var kernelsim = KernelsimWrapper();
        var common = new Dictionary<string, string> { ["KERNELSIM"] = kernelsim, ["CAMPAIGN"] = campaign, ["RESULTS"] = Sub("results") };
        // Task ids 1..2 (--array=1-2): the shard is the id minus SLURM_ARRAY_TASK_MIN.
        WaitAll(Enumerable.Range(1, tasks).Select(id => Start("bash", [RepoFiles.Path("deploy/slurm/campaign-array.sbatch")], new Dictionary<string, string>(common)
        {
            ["SLURM_ARRAY_TASK_ID"] = id.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SLURM_ARRAY_TASK_MIN"] = "1",
            ["SLURM_ARRAY_TASK_COUNT"] = tasks.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["SLURM_CPUS_PER_TASK"] = "1",
        })).ToList());
        WaitAll([Start("bash", [RepoFiles.Path("deploy/slurm/merge.sbatch")], common)]);
        AssertSameAsSingleRun(campaign, Path.Combine(Sub("results"), "merged"));
    }

    [TestCase(null, "JOB_COMPLETION_INDEX=2", "KERNELSIM_SHARDS=4", true, 2, 4)]
    [TestCase("1/3", "JOB_COMPLETION_INDEX=2", "KERNELSIM_SHARDS=4", true, 1, 3)]
    [TestCase(null, "SLURM_ARRAY_TASK_ID=7", "SLURM_ARRAY_TASK_COUNT=8", true, 7, 8)]
    [TestCase(null, "SLURM_ARRAY_TASK_ID=8", "SLURM_ARRAY_TASK_COUNT=8;SLURM_ARRAY_TASK_MIN=1", true, 7, 8)]
    [TestCase(null, "", "", true, 0, 1)]
    public void Shard_FromTheEngineVariables(string? option, string a, string b, bool ok, int index, int count)
    {
        var env = Env(a + ";" + b);
        Assert.That(ShardEnvironment.TryResolve(option, env, out var i, out var n, out _, out var error), Is.EqualTo(ok), error);
        Assert.That((i, n), Is.EqualTo((index, count)));
    }

    [TestCase("JOB_COMPLETION_INDEX=3", "kernelsim: JOB_COMPLETION_INDEX=3 is set (a Kubernetes Indexed Job) but KERNELSIM_SHARDS is not: set KERNELSIM_SHARDS to the Job's completions")]
    [TestCase("JOB_COMPLETION_INDEX=4;KERNELSIM_SHARDS=4", "kernelsim: JOB_COMPLETION_INDEX=4 is not below KERNELSIM_SHARDS=4: set KERNELSIM_SHARDS to the Job's completions")]
    [TestCase("JOB_COMPLETION_INDEX=x;KERNELSIM_SHARDS=4", "kernelsim: JOB_COMPLETION_INDEX=x, KERNELSIM_SHARDS=4: expected a non-negative index and a shard count of at least 1")]
    [TestCase("SLURM_ARRAY_TASK_ID=5", "kernelsim: SLURM_ARRAY_TASK_ID=5 is set (a Slurm job array) but SLURM_ARRAY_TASK_COUNT is not")]
    [TestCase("SLURM_ARRAY_TASK_ID=9;SLURM_ARRAY_TASK_MIN=1;SLURM_ARRAY_TASK_COUNT=8", "kernelsim: SLURM_ARRAY_TASK_ID=9 minus SLURM_ARRAY_TASK_MIN=1 is not below SLURM_ARRAY_TASK_COUNT=8: give the array consecutive task ids (--array=0-7)")]
    [TestCase("SLURM_ARRAY_TASK_ID=4;SLURM_ARRAY_TASK_COUNT=8;SLURM_ARRAY_TASK_STEP=2", "kernelsim: SLURM_ARRAY_TASK_STEP=2: give the array consecutive task ids (--array=0-7), one per shard")]
    public void Shard_UnusableEngineVariables_Exit2_NamingThem(string vars, string message)
    {
        var env = Env(vars);
        Assert.That(ShardEnvironment.TryResolve(null, env, out _, out _, out _, out var error), Is.False);
        Assert.That("kernelsim: " + error, Is.EqualTo(message));
    }

    [Test]
    public void Campaign_BadEngineVariables_Exit2_BeforeAnySeed()
    {
        var p = CampaignStreamTests.Kernelsim(new Dictionary<string, string> { ["JOB_COMPLETION_INDEX"] = "3" }, "campaign", RepoFiles.Path("campaigns/example.yaml"), "--seeds", "1..99999999");
        var err = p.StandardError.ReadToEnd();
        Assert.That(p.WaitForExit(120_000), Is.True);
        Assert.That((p.ExitCode, err), Is.EqualTo((2, "kernelsim: JOB_COMPLETION_INDEX=3 is set (a Kubernetes Indexed Job) but KERNELSIM_SHARDS is not: set KERNELSIM_SHARDS to the Job's completions\n")));
    }

    private static Func<string, string?> Env(string vars)
    {
        var d = vars.Split(';', StringSplitOptions.RemoveEmptyEntries).Select(v => v.Split('=', 2)).ToDictionary(v => v[0], v => v[1]);
        return k => d.GetValueOrDefault(k);
    }
}
