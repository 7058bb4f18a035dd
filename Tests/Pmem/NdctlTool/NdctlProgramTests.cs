using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;

namespace KernelSim.Tests.Pmem.NdctlTool;

/// <summary>
/// The ndctl program's parsing and output over a hand-built Linux-shaped sysfs tree and ioctl double
/// (<see cref="FakeNdBus"/>); the SMART and scrub flows run on a booted machine.
/// </summary>
public class NdctlProgramTests
{
    [Test]
    public void ListNamespaces_RawLabelLess_PrintsTheJsonCArray()
    {
        var f = new FakeNdBus();
        var r = f.Run("list");
        Assert.That(r, Is.EqualTo(new NdctlResult(0, """
            [
              {
                "dev":"namespace0.0",
                "mode":"raw",
                "size":67108864,
                "sector_size":512,
                "blockdev":"pmem0"
              }
            ]

            """, "")));
    }

    [Test]
    public void ListHuman_OneNamespace_PrintsTheObject_WithSizeInMiBAndMB()
    {
        var f = new FakeNdBus();
        Assert.That(f.Run("list -u").Stdout, Is.EqualTo("""
            {
              "dev":"namespace0.0",
              "mode":"raw",
              "size":"64.00 MiB (67.11 MB)",
              "sector_size":512,
              "blockdev":"pmem0"
            }

            """));
    }

    [Test]
    public void ListBusesDimmsRegions_HumanHexAndMappings()
    {
        var f = new FakeNdBus();
        var r = f.Run("list -BDRu");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Is.EqualTo("""
            {
              "provider":"ACPI.NFIT",
              "dev":"ndbus0",
              "scrub_state":"idle",
              "dimms":[
                {
                  "dev":"nmem0",
                  "id":"8089-a2-1740-00000000",
                  "handle":"0x1",
                  "phys_id":"0"
                }
              ],
              "regions":[
                {
                  "dev":"region0",
                  "size":"64.00 MiB (67.11 MB)",
                  "align":"16.00 MiB (16.78 MB)",
                  "available_size":0,
                  "max_available_extent":0,
                  "type":"pmem",
                  "mappings":[
                    {
                      "dimm":"nmem0",
                      "offset":"0",
                      "length":"0x4000000",
                      "position":0
                    }
                  ],
                  "persistence_domain":"memory_controller"
                }
              ]
            }

            """));
    }

    [Test]
    public void ListMediaErrors_RawNamespace_ShowsRegionBadblocksWithDimms()
    {
        var f = new FakeNdBus { Badblocks = "8 2\n" };
        var r = f.Run("list -M -n namespace0.0");
        Assert.That(r.Stdout, Does.Contain("""
                "badblock_count":2,
                "badblocks":[
                  {
                    "offset":8,
                    "length":2,
                    "dimms":[
                      "nmem0"
                    ]
                  }
                ]
            """));
    }

    [Test]
    public void InjectError_Notify_WaitsForTheScrub_PrintsMediaErrors_AndSendsClampedRecords()
    {
        var f = new FakeNdBus();
        var r = f.Run("inject-error namespace0.0 -B 8 -n 2");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(f.Injected, Is.EqualTo(new[] { (FakeNdBus.RegionStart + 8 * 512, 256UL), (FakeNdBus.RegionStart + 9 * 512, 256UL) }),
            "one ARS_INJECT_SET per block, clamped to clear_err_unit");
        Assert.That(f.ScrubCount, Is.EqualTo(2), "the process slept; the scrubs completed");
        Assert.That(r.Stdout, Does.Contain("\"badblock_count\":2,"));
        var status = f.Run("inject-error --status namespace0.0");
        Assert.That(status.Stdout, Is.EqualTo("""
            {
              "badblocks":[
                {
                  "block":8,
                  "count":2
                }
              ]
            }

            """));
        var ioctl = f.Ioctls.Find(i => i.Dev == "ndctl0" && Uapi.Ioctl.Nr(i.Cmd) == 10);
        Assert.That(ioctl.Cmd, Is.EqualTo(0xC0404E0Au), "ND_IOCTL_CALL = _IOWR('N', 10, struct nd_cmd_pkg)");
    }

    [Test]
    public void InjectError_Saturate_InjectsTheWholeSector_AndUninjectWarns()
    {
        var f = new FakeNdBus();
        Assert.That(f.Run("inject-error namespace0.0 --block=0 --count=1 --saturate --no-notify").Rc, Is.Zero);
        Assert.That(f.Injected, Is.EqualTo(new[] { (FakeNdBus.RegionStart, 512UL) }));
        Assert.That(f.ScrubCount, Is.Zero);
        var r = f.Run("inject-error namespace0.0 -B 0 -n 1 -d");
        Assert.That(r.Stdout, Does.StartWith("Warning: Un-injecting previously injected errors here will\n"));
        Assert.That(f.Injected, Is.Empty);
    }

    [TestCase("inject-error namespace9.9 -B 1 -n 1", 250, "  Error: namespace9.9: no such namespace\n\n")]
    [TestCase("inject-error namespace0.0 -B 1", 234, "  Error: block and count required for inject/uninject\n\n")]
    [TestCase("inject-error namespace0.0 -B x -n 1", 234, "  Error: Invalid block: x\n\n")]
    [TestCase("inject-error namespace0.0 -t -B 1", 234, "  Error: status is invalid with inject or uninject\n\n")]
    [TestCase("frobnicate", 1, "Unknown command: 'frobnicate'\n")]
    [TestCase("--frob list", 129, "Unknown option: --frob\n\n Usage: ndctl [--version] [--help] COMMAND [ARGS]\n")]
    [TestCase("list --firmware", 129, null)]
    [TestCase("list -m foo", 234, "  Error: invalid mode: 'foo'\n\n")]
    [TestCase("inject-smart nmem7 -f", 250, "  Error: nmem7: no such dimm\n\n")]
    [TestCase("inject-smart nmem0", 234, "  Error: No valid operation specified\n\n")]
    [TestCase("disable-namespace", 129, null)]
    public void BadInput_NdctlsMessageAndExitCode(string line, int rc, string? stderr)
    {
        var f = new FakeNdBus();
        var r = f.Run(line);
        Assert.That(r.Rc, Is.EqualTo(rc));
        if (stderr != null) Assert.That(r.Stderr, Is.EqualTo(stderr));
        else Assert.That(r.Stderr, Does.Contain("usage: ndctl"));
    }

    /// <summary>A booted nfit_test machine with one raw namespace and a process for ndctl (the flows run on the kernel, not the fake).</summary>
    private static Process Real()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw)).Build();
        return m.Spawn("ndctl");
    }

    [Test]
    public void InjectSmart_Fatal_MediaTemperature_Thresholds_ThenListHealth()
    {
        var p = Real();
        var r = Ndctl.Run(p, "inject-smart nmem0 -f -m 45.5 --media-temperature-threshold=50 --media-temperature-alarm=on");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(p.Machine.NvdimmBus()!.Dimms[0].Smart!.MediaTemperature, Is.EqualTo(45 * 16), "ndctl_encode_smart_temperature drops the fraction");
        var h = Ndctl.Run(p, "list -DH -d nmem0").Stdout;
        Assert.That(h, Does.Contain("""
                "health":{
                  "health_state":"fatal",
                  "temperature_celsius":45.0,
                  "controller_temperature_celsius":25.0,
                  "spares_percentage":75,
                  "alarm_temperature":true,
                  "alarm_controller_temperature":false,
                  "alarm_spares":true,
                  "alarm_enabled_media_temperature":true,
                  "temperature_threshold":50.0,
                  "alarm_enabled_ctrl_temperature":false,
                  "alarm_enabled_spares":true,
                  "spares_threshold":5,
                  "life_used_percentage":5,
                  "shutdown_state":"clean",
                  "shutdown_count":42
                }
            """));
    }

    [Test]
    public void InjectSmart_CtrlTemperature_IsRefusedByTheIntelOps()
    {
        var r = Ndctl.Run(Real(), "inject-smart nmem0 -c 60");
        Assert.That(r.Rc, Is.EqualTo(250));
        Assert.That(r.Stderr, Is.EqualTo("  Error: nmem0: smart inject ctrl_temperature cmd invalid: No such device or address (-6)\n\n"));
    }

    [Test]
    public void StartAndWaitScrub_PrintTheBus()
    {
        var p = Real();
        var r = Ndctl.Run(p, "start-scrub");
        Assert.That(r.Rc, Is.Zero);
        Assert.That(r.Stdout, Does.Contain("\"scrub_state\":\"idle\""), "the ARS completed at system-call exit");
        Assert.That(p.Machine.NvdimmBus()!.ScrubCount, Is.EqualTo(1));
        Assert.That(Ndctl.Run(p, "wait-scrub ndbus0").Stdout, Does.Contain("\"dev\":\"ndbus0\""));
        Assert.That(Ndctl.Run(p, "start-scrub ndbus7"), Is.EqualTo(new NdctlResult(250, "", "error starting scrub: No such device or address\n")));
    }

    [Test]
    public void Version_Help_ListCmds()
    {
        var f = new FakeNdBus();
        Assert.That(f.Run("--version"), Is.EqualTo(new NdctlResult(0, "81\n", "")));
        Assert.That(f.Run("").Rc, Is.EqualTo(1));
        Assert.That(f.Run("--list-cmds").Stdout, Does.StartWith("version\nenable-namespace\n"));
        var h = f.Run("list -h");
        Assert.That(h.Rc, Is.EqualTo(129));
        Assert.That(h.Stderr, Does.StartWith("\n usage: ndctl list [<options>]\n\n    -b, --bus <bus-id>    filter by bus\n    -r, --region <region-id>\n                          filter by region\n"));
    }
}
