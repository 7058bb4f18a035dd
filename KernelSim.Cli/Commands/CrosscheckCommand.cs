using System.CommandLine;
using KernelSim.Cli.Rendering;
using KernelSim.Scenarios;
using KernelSim.Scenarios.Crosscheck;

namespace KernelSim.Cli.Commands;

/// <summary>
/// `kernelsim crosscheck FILE... --kernel-package NAME [--timeout S]`: run scenarios on a real Debian kernel under
/// QEMU and compare with the simulator step by step (docs/crosscheck.md). Exit 0 when no step differs, 1 when one
/// differs or a boot failed, 66 / 65 for a scenario file that cannot be read / used, 2 for a name that is not a
/// kernel image package of a modelled release, 69 when a tool or the package cannot be had.
/// </summary>
internal static class CrosscheckCommand
{
    public static Command Create(Func<Terminal> terminal, Func<Terminal> errorTerminal)
    {
        var files = new Argument<string[]>("file") { Description = "Scenario files (YAML)", Arity = ArgumentArity.OneOrMore }.NoOptions();
        var package = new Option<string>("--kernel-package")
        {
            Description = "Debian kernel image package to boot (e.g. linux-image-6.12.118+deb12-amd64-unsigned); fetched with apt-get download and cached",
            Required = true,
            HelpName = "NAME",
        };
        package.Validators.Add(r =>
        {
            var name = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
            if (DebianKernelPackages.VersionOf(name) is not { } v)
                r.AddError($"--kernel-package '{name}': not a Debian kernel image package name (e.g. linux-image-6.12.118+deb12-amd64-unsigned)");
            else if (!KernelSim.Profiles.KernelProfile.IsModelled(v))
                r.AddError($"--kernel-package '{name}': Linux {v} is not a modelled release; KernelSim models {KernelSim.Profiles.KernelProfile.ModelledRange}");
        });
        var timeout = new Option<int>("--timeout")
        {
            Description = "Seconds one boot may take before it counts as a hang (10 or more)",
            HelpName = "SECONDS",
            DefaultValueFactory = _ => 180,
            CustomParser = r =>
            {
                var text = r.Tokens.Count > 0 ? r.Tokens[0].Value : "";
                if (int.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var s) && s >= 10) return s;
                r.AddError($"--timeout '{text}': expected a number of seconds, 10 or more");
                return 180;
            },
        };
        var cmd = new Command("crosscheck", "Run scenarios on a real Linux kernel under QEMU and compare with the simulator, step by step") { files, package, timeout };
        cmd.SetAction(r => Run(r.GetValue(files) ?? [], r.GetValue(package)!, r.GetValue(timeout), terminal(), errorTerminal()));
        return cmd;
    }

    public static int Run(string[] files, string package, int timeoutSeconds, Terminal term, Terminal err) =>
        Run(files, package, new CrosscheckRunner(new DebianKernelPackages(), new QemuGuestRunner(TimeSpan.FromSeconds(Math.Max(10, timeoutSeconds)))), term, err);

    /// <summary>Run with the given runner (tests pass fakes).</summary>
    public static int Run(string[] files, string package, CrosscheckRunner runner, Terminal term, Terminal err)
    {
        var inputs = new List<(IReadOnlyList<KernelSim.Scenarios.Model.Scenario>, string)>();
        foreach (var f in files)
        {
            if (InputFiles.Read(f, err) is not { } text) return ExitCodes.NoInput;
            var notes = new List<string>();
            try
            {
                inputs.Add((ScenarioParser.ParseText(f, text, notes), text));
                foreach (var n in notes) err.Line($"kernelsim: {n}");
            }
            catch (ScenarioException e)
            {
                err.Line($"kernelsim: {e.Message}");
                err.Writer.Flush();
                return ExitCodes.DataError;
            }
        }
        var results = new List<CrosscheckScenario>();
        try
        {
            foreach (var (scenarios, text) in inputs)
            {
                foreach (var r in runner.Run(scenarios, text, package))
                {
                    if (results.Count > 0) term.Line();
                    term.Writer.Write(CrosscheckRunner.Render(r));
                    term.Writer.Flush();
                    results.Add(r);
                }
            }
        }
        catch (CrosscheckException e)
        {
            // A missing tool, a download or unpacking that failed: the host cannot run the crosscheck.
            err.Line($"kernelsim: crosscheck: {e.Message}");
            err.Writer.Flush();
            return ExitCodes.Unavailable;
        }
        var agree = results.Sum(r => r.Count(CrosscheckVerdict.Agree));
        var differ = results.Sum(r => r.Count(CrosscheckVerdict.Differ));
        var cannot = results.Sum(r => r.Count(CrosscheckVerdict.CannotRun));
        var failedBoots = results.Count(r => r.Boot.StartsWith("failed", StringComparison.Ordinal) || r.Boot.StartsWith("setup failed", StringComparison.Ordinal));
        term.Line();
        term.Line($"{results.Count} scenario(s) on {package}: {agree} step(s) agree, {differ} differ, {cannot} cannot run{(failedBoots > 0 ? $", {failedBoots} boot(s) failed" : "")}");
        term.Writer.Flush();
        return differ > 0 || failedBoots > 0 ? 1 : 0;
    }
}
