using System.Globalization;
using KernelSim.Profiles;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;
using KernelSim.Tests.Infrastructure;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// `kernelsim shrink` of the namespace-mode workloads (campaigns/nv-modes.yaml): a sector seed becomes a scenario on a
/// sector-mode namespace (O_DIRECT on /dev/pmem0s, poison at the line of the block the LBA mapped to), a devdax seed
/// one on a devdax namespace (loads through a MAP_SHARED mapping of /dev/dax0.0, the SIGBUS pinned with si_addr and
/// si_addr_lsb); both pass under `kernelsim run` and fail when the outcome they pin changes.
/// </summary>
public class ShrinkNamespaceModesTests : TempDirTest
{
    private static string NvModes => RepoFiles.Path("campaigns/nv-modes.yaml");

    private static string Steps(string text) => text[text.IndexOf("steps:\n", StringComparison.Ordinal)..];

    [Test]
    public void Shrink_SectorSeed22_TargetEioAtPread_PoisonsTheLbasBlock_AndTheScenarioFailsWithoutIt()
    {
        // Seed 22 (sector, poison-line): a 4 KiB pread over LBA 122, whose data block got a poisoned line, fails with EIO.
        var path = Path.Combine(Dir, "s22.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "22", "--campaign", NvModes, "--target", "EIO@pread", "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.StartWith("# seed 22 on Linux 5.10: EIO@pread; 13 -> 2 steps in 15 runs\n# shrunk plan: sector kinds=[poison-line] | poison dev+0xf580; pread(buf+0x7e00, 4096, 61440)\n"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("  kernel: \"5.10\"\n  cpu: erms\n  dram: 64M\n  seed: 22\n  pmem: {bus: nfit, namespaces: [{size: 32M, mode: sector}]}\n"));
        // LBA 122 is still identity-mapped: arena data offset 0x1000 + info 0x1000 + 122 * 512 + 384 above 4 GiB.
        Assert.That(Steps(text), Is.EqualTo(
            "steps:\n  - open: {path: /dev/pmem0s, flags: O_RDWR|O_DIRECT, as: f}\n    expect: {signal: none}\n" +
            "  - poison: {pa: 0x100011580}\n    say: 'poison-line: byte 384 of the data block LBA 122 maps to now'\n    expect: {ret: 0}\n" +
            "  - pread: {fd: f, buf: buf+0x7e00, len: 4096, pos: 61440}\n    expect:\n      errno: EIO\n      signal: none\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
        Assert.That(output, Does.Contain("[3] app: pread(f, buf+0x7e00, 4096, 61440) = -EIO (-5)\nPASS nv-modes-seed-22: 3 step(s), 4 expectation(s) hold\n"));

        // Without the poisoned line the read succeeds: the expectation pins the EIO, it does not merely allow it.
        var clean = Write("clean.yaml", text.Replace("  - poison: {pa: 0x100011580}\n    say: 'poison-line: byte 384 of the data block LBA 122 maps to now'\n    expect: {ret: 0}\n", "", StringComparison.Ordinal));
        (rc, output, _) = CliRun.Invoke("run", clean);
        Assert.That(rc, Is.EqualTo(1));
        Assert.That(output, Does.Contain("FAIL nv-modes-seed-22: 1 of 3 expectation(s) failed"));
    }

    [Test]
    public void Shrink_SectorSeed117_Badblocks_PoisonsTheBlockAndScrubs()
    {
        // ndctl inject-error refuses a BTT namespace, so the campaign's badblock is latent poison in the block LBA 98
        // maps to, found by an address range scrub; a read over it fails with EIO.
        var path = Path.Combine(Dir, "s117.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "117", "--campaign", NvModes, "--target", "EIO@pread", "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.StartWith("# seed 117 on Linux 5.10: EIO@pread; 13 -> 2 steps in 15 runs\n# shrunk plan: sector kinds=[badblocks,unmapped-page] | badblocks 98+1; pread(buf+0x4400, 2560, 50176)\n"));
        var text = File.ReadAllText(path);
        Assert.That(Steps(text), Is.EqualTo(
            "steps:\n  - open: {path: /dev/pmem0s, flags: O_RDWR|O_DIRECT, as: f}\n    expect: {signal: none}\n" +
            "  - poison: {pa: 0x10000e400}\n    say: 'badblocks: the data block LBA 98 maps to now, found by the scrub below'\n    expect: {ret: 0}\n" +
            "  - ndctl: start-scrub\n    expect: {ret: 0}\n" +
            "  - pread: {fd: f, buf: buf+0x4400, len: 2560, pos: 50176}\n    expect:\n      errno: EIO\n      signal: none\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
    }

    [Test]
    public void Shrink_Devdax_5_17To6_11_FirstTouchOutsideTheFirstPage_Livelocks_AndWithoutTheStoreTheLoadGetsSigbus()
    {
        // DD7: from 5.17 to 6.11 dax_set_mapping indexes the 2 MiB head from ALIGN(address) of the block's first fault.
        // Seed 24's first touch is a store at 0xc597 (page 12), so the index names the next block, outside the
        // mapping: the load over the poisoned line at 0x800 is signalled to nobody and faults forever.
        var file = Write("dd61.yaml", File.ReadAllText(RepoFiles.Path("campaigns/devdax-align.yaml"))
            .Replace("profiles: [5.10, 6.12]", "profiles: [6.1]", StringComparison.Ordinal).Replace("[4K, 2M, 1G]", "2M", StringComparison.Ordinal));
        var path = Path.Combine(Dir, "s24.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "24", "--campaign", file, "--target", "livelock@load", "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("# shrunk plan: devdax kinds=[poison-line] | store(buf+0xc597, 2182, 0xe3); poison dev+0x800; load(buf+0xba, 3318)\n"));
        var text = File.ReadAllText(path);
        Assert.That(Steps(text), Does.EndWith(
            "  - store: {at: dax+0xc597, len: 2182, fill: 0xe3}\n    expect:\n      ret: 2182\n      signal: none\n" +
            "  - poison: {pa: 0x100200800}\n    say: 'poison-line: /dev/dax0.0 byte 0x800'\n    expect: {ret: 0}\n" +
            "  - load: {at: dax+0xba, len: 3318}\n    expect:\n      process: livelocked\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);

        // Without the store the load is the first touch, in the block's first page: the head is indexed right.
        var noStore = Write("nostore.yaml", text.Replace("  - store: {at: dax+0xc597, len: 2182, fill: 0xe3}\n    expect:\n      ret: 2182\n      signal: none\n", "", StringComparison.Ordinal));
        (rc, output, _) = CliRun.Invoke("run", noStore);
        Assert.That(rc, Is.EqualTo(1));
        Assert.That(output, Does.Contain("SIGBUS BUS_MCEERR_AR si_addr=dax (0x"));
    }

    [TestCase("5.10", "dax+0x9000")]
    [TestCase("6.12", "dax+0x0")]
    public void Shrink_DevdaxSeed18_TargetSigbusAr_PinsSiAddrAndLsbOfTheRelease_AndTheOtherReleaseFails(string kernel, string siAddr)
    {
        // Seed 18 (devdax): a load of 5098 bytes at device offset 0x8573 reaches the poisoned line at 0x9180 after 3085
        // bytes. Up to 5.x the SIGBUS names the 4 KiB page of the line; from 5.17 the head of its 2 MiB block.
        var path = Path.Combine(Dir, "s18.yaml");
        var (code, _, err) = CliRun.Invoke("shrink", "18", "--campaign", NvModes, "--kernel", kernel, "--target", "SIGBUS-AR@load", "--out", path);
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.StartWith($"# seed 18 on Linux {kernel}: SIGBUS-AR@load; 13 -> 2 steps in 15 runs\n# shrunk plan: devdax kinds=[poison-line] | poison dev+0x9180; load(buf+0x8573, 5098)\n"));
        var text = File.ReadAllText(path);
        Assert.That(text, Does.Contain("  pmem: {bus: nfit, namespaces: [{size: 32M, mode: devdax, align: 2M}]}\n"));
        Assert.That(text, Does.Contain("      - {name: buf, size: 64K, prot: rw, type: shared, fill: \"i*7+3\"}\n"));
        // /dev/dax0.0 starts 2 MiB into the namespace (info block and memmap at 2 MiB alignment): pa 0x100200000.
        Assert.That(Steps(text), Is.EqualTo(
            "steps:\n  - open: {path: /dev/dax0.0, flags: O_RDWR, as: f}\n    expect: {signal: none}\n" +
            "  - mmap-file: {fd: f, name: dax, len: 2M, prot: rw, flags: shared}\n" +
            "  - poison: {pa: 0x100209180}\n    say: 'poison-line: /dev/dax0.0 byte 0x9180'\n    expect: {ret: 0}\n" +
            $"  - load: {{at: dax+0x8573, len: 5098}}\n    expect:\n      ret: 3085\n      signal: {{signo: SIGBUS, code: BUS_MCEERR_AR, addr: {siAddr}, lsb: 21}}\n"));
        var (rc, output, runErr) = CliRun.Invoke("run", path);
        Assert.That(rc, Is.Zero, text + output + runErr);
        Assert.That(output, Does.Contain("PASS nv-modes-seed-18: 4 step(s), 4 expectation(s) hold"));

        // The other release's si_addr differs: the scenario fails there.
        var other = kernel == "5.10" ? "6.12" : "5.10";
        (rc, output, _) = CliRun.Invoke("run", "--kernel", other, path);
        Assert.That(rc, Is.EqualTo(1));
        Assert.That(output, Does.Contain($"expected SIGBUS BUS_MCEERR_AR si_addr={siAddr} si_addr_lsb=21, actual SIGBUS BUS_MCEERR_AR si_addr={(siAddr == "dax+0x0" ? "dax+0x9000" : "dax")}"));
    }

    [TestCase("7", "EIO", "kernelsim: seed 7 shows no EIO on Linux 5.10, Linux 6.12 (it shows Linux 5.10: other-errno@pread; Linux 6.12: other-errno@pread); nothing written\n")]
    [TestCase("1", "SIGBUS-AR", "kernelsim: seed 1 shows no SIGBUS-AR on Linux 5.10, Linux 6.12 (it shows Linux 5.10: only complete operations; Linux 6.12: only complete operations); nothing written\n")]
    public void Shrink_NamespaceModeSeedWithoutTheTarget_Exit4_NothingWritten(string seed, string target, string message)
    {
        // Seed 7 is a sector seed whose only failure is a misaligned O_DIRECT EINVAL; seed 1 a devdax seed that completes.
        var path = Path.Combine(Dir, "none.yaml");
        var (code, output, err) = CliRun.Invoke("shrink", seed, "--campaign", NvModes, "--target", target, "--out", path);
        Assert.That(code, Is.EqualTo(4));
        Assert.That(output, Is.Empty);
        Assert.That(err, Is.EqualTo(message));
        Assert.That(File.Exists(path), Is.False);
    }

    [Test]
    public void Shrink_EveryFailingNamespaceModeSeed_WritesAScenarioThatPasses()
    {
        // Each sector and devdax seed of 1..30 with an outcome worse than complete, on each profile, shrunk to each such
        // OUTCOME@OP: the written scenario passes under `kernelsim run`.
        var spec = CampaignParser.ParseFile(NvModes);
        var tried = 0;
        var kinds = new HashSet<string>(StringComparer.Ordinal);
        for (ulong seed = 1; seed <= 30; seed++)
        {
            var plan = PlanGenerator.Generate(spec, seed);
            foreach (var profile in spec.Profiles)
            {
                var targets = SeedRunner.Run(spec, plan, profile).Records.Where(r => r.Outcome > Outcome.Complete)
                    .Select(r => $"{Outcomes.Name(r.Outcome)}@{ShrinkTarget.OpName(r.Call)}").Distinct(StringComparer.Ordinal);
                foreach (var target in targets)
                {
                    var path = Path.Combine(Dir, $"s{seed}-{profile}-{target}.yaml");
                    var (code, _, err) = CliRun.Invoke("shrink", seed.ToString(CultureInfo.InvariantCulture), "--campaign", NvModes, "--kernel", profile.ToString(), "--target", target, "--out", path);
                    Assert.That(code, Is.Zero, $"seed {seed} {profile} {target}: {err}");
                    var (rc, output, runErr) = CliRun.Invoke("run", path);
                    Assert.That(rc, Is.Zero, $"seed {seed} {profile} {target}:\n{File.ReadAllText(path)}{output}{runErr}");
                    tried++;
                    kinds.Add($"{CampaignSpec.NameOf(plan.Workload)} {target}");
                }
            }
        }
        Assert.That(tried, Is.GreaterThan(20));
        Assert.That(kinds, Is.SupersetOf(new[] { "sector EIO@pread", "sector EFAULT@pwrite", "sector other-errno@pread", "devdax SIGBUS-AR@load" }));
    }
}
