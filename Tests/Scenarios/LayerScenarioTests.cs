using KernelSim.Scenarios;
using KernelSim.Scenarios.Runtime;
using KernelSim.Drivers.Pmem;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Fs.Dax;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Scenarios;

/// <summary>
/// The storage layers in scenario files: machine.pmem / filesystems / virtiofs, the pmem, daxfs and virtio-fs steps
/// and the badblocks / media / fuse / host-file / output expectations; their errors name file, line and column.
/// </summary>
public class LayerScenarioTests
{
    private static ScenarioException Fail(string text) =>
        Assert.Throws<ScenarioException>(() => ScenarioParser.ParseText("t.yaml", text))!;

    private const string Pmem = """
        scenario: t
        machine:
          kernel: 6.12
          work: manual
          pmem: {bus: nfit, namespaces: [{size: 64M, mode: fsdax}]}
          filesystems: [{device: /dev/pmem0, mount: /mnt/pmem, dax: always, failure-route: notify-failure}]
        actors:
          - name: app
            mappings:
              - {name: data, size: 64K, fill: "i*7+3"}
              - {name: buf, size: 8K, fill: 0xff}
        steps:
          - open: {path: /mnt/pmem/F, flags: O_RDWR|O_CREAT, as: f}
          - write: {fd: f, buf: data, len: 65536}
          - poison-file: {path: /mnt/pmem/F, page: 1, line: 1}
        """;

    [Test]
    public void Machine_PmemFilesystemsVirtiofs_Parse()
    {
        var s = ScenarioParser.ParseText("t.yaml", """
            scenario: t
            machine:
              pmem: {bus: e820, size: 128M, namespaces: [{size: 64M, mode: raw, sector-size: 4096}, {size: 32M}], clear-err-unit: 4096, hw-error-scrub: true}
              filesystems: [{device: pmem1, mount: /mnt/x, dax: never, huge-faults: false}]
              virtiofs:
                - {name: share, tag: t0, mount: /mnt/v, window: 4M, dax: inode, policy: proposed-guest-sigbus, files: [{name: F, size: 8K, node: 9, fill: 0x5a}]}
            steps: []
            """).Single().Machine;
        Assert.That(s.Pmem, Is.Not.Null);
        Assert.That((s.Pmem!.E820, s.Pmem.RegionSize, s.Pmem.ClearErrUnit, s.Pmem.HwErrorScrub), Is.EqualTo((true, 128UL << 20, 4096u, true)));
        Assert.That(s.Pmem.Namespaces, Is.EqualTo(new[] { new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw, 4096), new PmemNamespaceSpec(32UL << 20) }));
        var f = s.Filesystems.Single();
        Assert.That((f.Device, f.Mount, f.Dax, f.Route, f.HugeFaults), Is.EqualTo(("pmem1", "/mnt/x", DaxMode.Never, FailureRoute.Generic, false)));
        var v = s.Virtiofs.Single();
        Assert.That((v.Name, v.Tag, v.Mount, v.Window, v.Dax, v.Policy), Is.EqualTo(("share", "t0", "/mnt/v", 4UL << 20, DaxMountMode.Inode, HostFaultPolicy.ProposedGuestSigbus)));
        Assert.That(v.Files.Single(), Is.EqualTo(new KernelSim.Scenarios.Model.HostFileSpec("F", 8192, 9, KernelSim.Scenarios.Model.FillPattern.TryParse("0x5a"))));
    }

    [TestCase("  filesystems: [{device: pmem0}]\n", 3, 26, "machine.filesystems[0]: a filesystem on pmem0 needs machine.pmem")]
    [TestCase("  pmem: {bus: pci}\n", 3, 15, "machine.pmem.bus: 'pci' is not nfit, qemu or e820")]
    [TestCase("  pmem: {namespaces: [{size: 3M}]}\n", 3, 30, "machine.pmem.namespaces[0].size: 4M .. 64G, a multiple of 2M for fsdax")]
    [TestCase("  pmem: {}\n  filesystems: [{device: pmem1}]\n", 4, 26, "machine.filesystems[0].device: 'pmem1' is not a pmem disk of this machine (pmem0 … pmem0)")]
    [TestCase("  virtiofs: [{policy: hang}]\n", 3, 23, "machine.virtiofs[0].policy: 'hang' is not one of upstream-async-livelock, upstream-sync-vm-stop, proposed-exit-to-user, proposed-guest-sigbus, proposed-machine-check")]
    [TestCase("  virtiofs: [{window: 3M}]\n", 3, 23, "machine.virtiofs[0].window: a multiple of 2M (ranges are 2 MiB), at most 64G; 0 for no window")]
    public void Machine_BadLayerSection_ErrorWithLocation(string section, int line, int column, string reason)
    {
        var e = Fail("scenario: t\nmachine:\n" + section + "steps: []\n");
        Assert.That(e.Reason, Is.EqualTo(reason));
        Assert.That((e.Line, e.Column), Is.EqualTo((line, column)));
    }

    [Test]
    public void Steps_WithoutTheirLayer_ErrorAtTheStep()
    {
        var e = Fail("scenario: t\nsteps:\n  - ndctl: start-scrub\n");
        Assert.That((e.Line, e.Column, e.Reason), Is.EqualTo((3, 12, "step 1 (ndctl): the machine has no pmem (add machine.pmem)")));
        e = Fail("scenario: t\nsteps:\n  - host-truncate: {file: F, size: 0}\n");
        Assert.That((e.Line, e.Column, e.Reason), Is.EqualTo((3, 20, "step 1 (host-truncate): the machine has no virtio-fs share (add machine.virtiofs)")));
    }

    [Test]
    public void Ndctl_UnknownCommand_ErrorAtTheScalar()
    {
        var e = Fail("scenario: t\nmachine: {pmem: {}}\nsteps:\n  - ndctl: inject-eror namespace0.0\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((4, 12)));
        Assert.That(e.Reason, Does.StartWith("step 1 (ndctl).command: unknown ndctl command 'inject-eror' (known: version, enable-namespace"));
    }

    [Test]
    public void BadblocksExpectation_BadEntry_ErrorAtTheEntry()
    {
        var e = Fail("scenario: t\nmachine: {pmem: {}}\nsteps:\n  - run-work:\n    expect: {badblocks: [\"8 1\", \"8\"]}\n");
        Assert.That((e.Line, e.Column), Is.EqualTo((5, 33)));
        Assert.That(e.Reason, Is.EqualTo("expect.badblocks: '8' is not a badblocks entry (\"start length\", e.g. \"8 1\"), or none"));
    }

    [Test]
    public void PoisonFile_NotOnADaxMount_ErrorAtThePath()
    {
        var e = Fail(Pmem.Replace("poison-file: {path: /mnt/pmem/F", "poison-file: {path: /mnt/other/F", StringComparison.Ordinal));
        Assert.That((e.Line, e.Column), Is.EqualTo((15, 25)));
        Assert.That(e.Reason, Is.EqualTo("step 3 (poison-file).path: '/mnt/other/F' is not on a daxfs mount (machine.filesystems: /mnt/pmem)"));
    }

    [Test]
    public void DaxRead_ShortThenEfaultThenBadblocksThenEio_S1S2()
    {
        var s = ScenarioParser.ParseText("t.yaml", Pmem + """

              - pread: {fd: f, buf: buf, len: 8192, pos: 0}
                expect: {ret: 4160, badblocks: none, memory: [{at: buf, len: 4160, same-as: data}, {at: buf+4160, len: 4032, untouched: true}]}
              - pread: {fd: f, buf: buf, len: 4096, pos: 4160}
                expect: {errno: EFAULT}
              - run-work:
                expect: {badblocks: "8 1"}
              - badblocks: pmem0
                expect: {ret: 1, output: '"8 1"'}
              - pread: {fd: f, buf: buf, len: 4096, pos: 4160}
                expect: {errno: EIO, mce: {count: 0}}
              - ndctl: list --media-errors -n namespace0.0
                expect: {ret: 0, output: ['"badblock_count":1', '"offset":8']}
            """).Single();
        var r = ScenarioRunner.Run(s);
        Assert.That(r.Steps.SelectMany(x => x.Checks).Where(c => c.Failure != null).Select(c => c.Failure), Is.Empty);
        Assert.That(r.Steps.Select(x => x.Result.Ret), Is.EqualTo(new long?[] { 0, 65536, 0, 4160, -14, 3, 1, -5, 0 }));
        Assert.That(r.Steps[2].Result.Text, Is.EqualTo("= 0 (/dev/pmem0 byte 4160 = 0x1040, sector 8, pa 0x100201040, line 0x100201040)"));
        Assert.That(r.Steps[5].Details, Does.Contain("badblocks pmem0: empty → \"8 1\""));
        Assert.That(r.Passed, Is.True);
    }

    [Test]
    public void NdctlJsonExpectation_ChecksPathsIntoStdout_AndNamesTheMismatch()
    {
        var s = ScenarioParser.ParseText("t.yaml", """
            scenario: t
            machine: {kernel: 6.12, pmem: {bus: nfit, namespaces: [{size: 64M, mode: raw}]}}
            steps:
              - ndctl: list -N
                expect: {ret: 0, json: {0.dev: namespace0.0, 0.size: "67108864", 0.blockdev: pmem1, 0.badblocks.0: "1", 1.dev: x}}
              - ndctl: inject-error namespace9.9 -B 1 -n 1
                expect: {json: {dev: x}}
            """).Single();
        var r = ScenarioRunner.Run(s);
        Assert.That(r.Steps[0].Checks.Select(c => c.Failure), Is.EqualTo(new string?[]
        {
            null, null, null, "expected 0.blockdev = pmem1, actual pmem0", "no 0.badblocks.0 in the output (stopped at 'badblocks')",
            "no 1.dev in the output (stopped at '1')",
        }));
        Assert.That(r.Steps[1].Checks.Single().Failure, Is.EqualTo("the step printed no JSON"));
        Assert.That(r.Passed, Is.False);
    }

    [Test]
    public void WrongBadblocksExpectation_FailsNamingExpectedAndActual()
    {
        var s = ScenarioParser.ParseText("t.yaml", Pmem + "\n  - run-work:\n    expect: {badblocks: \"9 1\"}\n").Single();
        var r = ScenarioRunner.Run(s);
        var fail = r.Steps.Last().Checks.Single();
        Assert.That(fail.Failure, Is.EqualTo("expected \"9 1\", actual empty"));
        Assert.That(r.Passed, Is.False);
    }

    [Test]
    public void Run_WrongBadblocksExpectation_Exit1_NamesIt()
    {
        var path = Path.Combine(Path.GetTempPath(), $"kernelsim-layer-{Environment.ProcessId}.yaml");
        File.WriteAllText(path, Pmem + "\n  - run-work:\n    expect: {badblocks: \"9 1\"}\n");
        try
        {
            var (code, output, _) = CliRun.Invoke("run", path);
            Assert.That(code, Is.EqualTo(1));
            Assert.That(output, Does.Contain($"  FAIL scenario t, step 4 (run deferred work), expect badblocks at {path}:17:25: expected \"9 1\", actual empty\n"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    private const string Share = """
        scenario: v
        machine:
          kernel: 6.12
          virtiofs: [{tag: myfs, mount: /mnt/virtiofs, window: 1G, dax: always, policy: POLICY, files: [{name: F, size: 4M, node: 5}]}]
        actors:
          - name: reader
            mappings:
              - {name: buf, size: 8K, fill: 0xff}
        steps:
          - open: {path: /mnt/virtiofs/F, flags: O_RDONLY, as: f}
          - pread: {fd: f, buf: buf, len: 8192, pos: 0x1ff000}
            expect:
              ret: 8192
              fuse: {count: 2, opcode: SETUPMAPPING, contains: "foffset=2097152 len=2097152 flags=2 moffset=2097152 → 0"}
          - host-truncate: {file: F, size: 2M}
            expect: {host-file: {file: F, size: 2097152}, fuse: none}
          - pread: {fd: f, buf: buf, len: 8192, pos: 0x1ff000}
        """;

    [TestCase("upstream-async-livelock", null, "livelock: ", "running")]
    [TestCase("upstream-sync-vm-stop", null, "stopped: error: kvm run failed Bad address", "stopped")]
    [TestCase("proposed-machine-check", 4096L, null, "running")]
    public void HostTruncation_ReadUnderEachPolicy_S2(string policy, long? ret, string? outcome, string machine)
    {
        var s = ScenarioParser.ParseText("t.yaml", Share.Replace("POLICY", policy, StringComparison.Ordinal) + $"\n    expect: {{machine: {machine}}}\n").Single();
        var r = ScenarioRunner.Run(s);
        Assert.That(r.Passed, Is.True, string.Join("\n", r.Steps.SelectMany(x => x.Checks).Select(c => c.Failure)));
        var last = r.Steps.Last().Result;
        Assert.That(last.Ret, Is.EqualTo(ret));
        if (outcome != null) Assert.That(last.Outcome, Does.StartWith(outcome));
        Assert.That(r.Steps[2].Details, Is.EqualTo(new[] { "host: truncate F 2097152" }));
    }

    [Test]
    public void FuseExpectation_WrongCount_Fails()
    {
        var s = ScenarioParser.ParseText("t.yaml", Share.Replace("POLICY", "upstream-async-livelock", StringComparison.Ordinal).Replace("count: 2", "count: 3", StringComparison.Ordinal)).Single();
        var r = ScenarioRunner.Run(s);
        var failure = r.Steps[1].Checks.Single(c => c.Failure != null).Failure;
        Assert.That(failure, Does.StartWith("expected 3 new FUSE_SETUPMAPPING request(s), actual 2: [requests.0] FUSE_SETUPMAPPING unique="));
    }

    [Test]
    public void ShippedLayerScenarios_RunAndPass()
    {
        var files = new[] { "dax-bypass", "virtiofs-truncate", "clearing-poison" }.Select(n => RepoFiles.Path($"scenarios/{n}.yaml")).ToArray();
        var (code, output, err) = CliRun.Invoke(["run", .. files]);
        Assert.That(code, Is.Zero, output + err);
        Assert.That(output, Does.EndWith("14 scenario(s): 14 passed, 0 failed\n"));
        Assert.That(CliRun.Invoke("run", RepoFiles.Path("scenarios/fsdax-mmap.yaml")).Code, Is.Zero);
    }
}
