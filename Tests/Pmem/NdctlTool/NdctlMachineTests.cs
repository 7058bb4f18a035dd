using KernelSim.Tests.Infrastructure;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.FsDax;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem.NdctlTool;

/// <summary>
/// ndctl (the program) end to end on booted machines — the nfit_test and QEMU platforms — through the kernel's sysfs
/// tree and the /dev/ndctl0 and /dev/nmemN ioctls: the flows of ndctl's own test suite.
/// </summary>
public class NdctlMachineTests
{
    private static (Machine M, Process P) Boot(NvdimmPlatform platform, params PmemNamespaceSpec[] ns)
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
        {
            o.Platform = platform;
            o.Namespaces.AddRange(ns);
        }).Build();
        return (m, m.Spawn("ndctl"));
    }

    private static string Cat(Process p, string path) => Sim.Cat(p, path);

    [Test]
    public void Raw_InjectScrubBadblocksEio_ClearErrors_ReadsAgain()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
        var r = Ndctl.Run(p, "inject-error namespace0.0 -B 8 -n 2");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Is.EqualTo("""
            {
              "dev":"namespace0.0",
              "mode":"raw",
              "size":67108864,
              "uuid":"00000000-0000-4000-8000-000000000000",
              "sector_size":512,
              "blockdev":"pmem0",
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
            }

            """));
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.EqualTo("8 2\n"));
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/badblocks"), Is.EqualTo("8 2\n"), "raw: region and disk sectors coincide");
        var buf = p.MapAnonymous(4096);
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(p.Close(fd), Is.Zero);

        r = Ndctl.Run(p, "clear-errors namespace0.0");
        Assert.That(r, Is.EqualTo(new NdctlResult(0, """
            {
              "dev":"namespace0.0",
              "mode":"raw",
              "size":67108864,
              "uuid":"00000000-0000-4000-8000-000000000000",
              "sector_size":512,
              "blockdev":"pmem0"
            }

            """, "cleared 1 namespace\n")));
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.Empty);
        fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(4096));
        Assert.That(Ndctl.Run(p, "inject-error --status namespace0.0").Stdout, Is.Empty, "CLEAR_ERROR forgot the injected records");
    }

    [Test]
    public void Fsdax_InjectUnderAMappedFile_SigbusOnLoad_ThenUnmountedClearErrors()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 8192);
        var sector = s.Fs.SectorOf("F", 4096);
        var nd = s.M.Spawn("ndctl");
        Assert.That(Ndctl.Run(nd, $"inject-error namespace0.0 -B {sector} -n 1 --no-notify").Rc, Is.Zero, "latent: not yet known");
        var map = s.MapFile(fd, 8192, Mman.PROT_READ, Mman.MAP_SHARED);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var ld = s.P.LoadByte(map + 4096UL, out _);
        Assert.That(ld.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, map.Value + 4096, 12, Forced: true)));
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.EqualTo($"{sector} 1\n"), "nfit_handle_mce recorded the sector");

        var busy = Ndctl.Run(nd, "clear-errors namespace0.0");
        Assert.That(busy.Rc, Is.EqualTo(240), "mounted: the exclusive open fails");
        Assert.That(busy.Stderr, Does.StartWith("libndctl: ndctl_namespace_disable_safe: namespace0.0: pmem0 failed exclusive open: Device or resource busy\n"));
        Assert.That(s.P.Munmap(map.Value, 8192), Is.Zero);
        Assert.That(s.P.Close(fd), Is.Zero);
        Assert.That(s.Fs.Unmount(), Is.Zero);
        var r = Ndctl.Run(nd, "clear-errors namespace0.0");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(s.M.Pmem("pmem0").Disk.BadblocksShow(), Is.Empty);
        Assert.That(s.M.Phys.PoisonedLines(), Is.Empty);
    }

    [Test]
    public void FsdaxToRawToFsdax_BadBlockUnderTheInfoBlock_IsClearedByTheZeroingWrite()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20));
        var r = Ndctl.Run(p, "create-namespace -f -e namespace0.0 -m raw");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(Cat(p, "/sys/bus/nd/devices/namespace0.0/mode"), Is.EqualTo("raw\n"));
        // The info block lives at namespace byte 4096: raw sector 8.
        Assert.That(Ndctl.Run(p, "inject-error namespace0.0 -B 8 -n 1").Rc, Is.Zero);
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.EqualTo("8 1\n"));
        r = Ndctl.Run(p, "create-namespace -f -e namespace0.0 -m fsdax");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("\"mode\":\"fsdax\""));
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/badblocks"), Is.Empty, "ndctl's zeroing O_DIRECT write over the info block cleared it");
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.Empty);
        Assert.That(m.Pmem("pmem0").Mode, Is.EqualTo(NamespaceMode.Fsdax));
    }

    [Test]
    public void Fsdax_BadBlockUnderTheInfoBlock_PfnBindFailsEnxio_NamespaceComesBackRaw()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20));
        Assert.That(p.WriteText("/sys/bus/nd/drivers/nd_pmem/unbind", "pfn0.1"), Is.EqualTo(6));
        var bus = m.NvdimmBus()!;
        Assert.That(bus.Firmware!.InjectSet((4UL << 30) + 4096, 512, notify: false), Is.Zero);
        Assert.That(Cat(p, "/sys/bus/nd/devices/ndbus0/nfit/scrub"), Is.EqualTo("0\n"));
        Assert.That(p.WriteText("/sys/bus/nd/devices/ndbus0/nfit/scrub", "1\n"), Is.EqualTo(2));
        Assert.That(Cat(p, "/sys/bus/nd/devices/ndbus0/nfit/scrub"), Is.EqualTo("1\n"));
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/badblocks"), Is.EqualTo("8 1\n"));
        // nd_pfn_validate reads the info block with nvdimm_read_bytes: a known bad sector there is −EIO, so −ENXIO.
        Assert.That(p.WriteText("/sys/bus/nd/drivers/nd_pmem/bind", "pfn0.1"), Is.EqualTo(-Errno.ENXIO));

        // ndctl disable-namespace deletes the pfn device (ndctl_pfn_delete); enabling the namespace probes it afresh:
        // nd_pfn_probe fails the same way and nd_pmem_probe attaches the whole namespace raw.
        Assert.That(Ndctl.Run(p, "disable-namespace namespace0.0"), Is.EqualTo(new NdctlResult(0, "", "disabled 1 namespace\n")));
        Assert.That(Ndctl.Run(p, "enable-namespace namespace0.0"), Is.EqualTo(new NdctlResult(0, "", "enabled 1 namespace\n")));
        Assert.That(Cat(p, "/sys/bus/nd/devices/namespace0.0/mode"), Is.EqualTo("raw\n"));
        Assert.That(Cat(p, "/sys/bus/nd/devices/namespace0.0/holder"), Is.EqualTo("\n"));
        Assert.That(m.Pmem("pmem0").Disk.SizeBytes, Is.EqualTo(64L << 20), "the info block and memmap are now data");
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.EqualTo("8 1\n"));
    }

    [Test]
    public void Fsdax_BadBlocksInTheMemmap_AreClearedOnEnable()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20));
        Assert.That(Ndctl.Run(p, "disable-namespace namespace0.0").Rc, Is.Zero);
        var bus = m.NvdimmBus()!;
        // Namespace byte 64 KiB: inside [8 KiB, dataoff = 2 MiB), the struct page array of PFN_MODE_PMEM.
        Assert.That(bus.Firmware!.InjectSet((4UL << 30) + (64 << 10), 1024, notify: true), Is.Zero);
        Assert.That(Ndctl.Run(p, "wait-scrub").Rc, Is.Zero);
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/badblocks"), Is.EqualTo("128 2\n"));
        var r = Ndctl.Run(p, "enable-namespace namespace0.0");
        Assert.That(r, Is.EqualTo(new NdctlResult(0, "", "enabled 1 namespace\n")));
        Assert.That(Cat(p, "/sys/bus/nd/devices/region0/badblocks"), Is.Empty, "nd_pfn_clear_memmap_errors wrote zero pages over them");
        Assert.That(m.Phys.PoisonedLines(), Is.Empty);
    }

    [Test]
    public void MemmapOnMem_PfnModeRam_DataStartsAtTheFirst2MiBBoundary()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20));
        var r = Ndctl.Run(p, "create-namespace -f -e namespace0.0 -m fsdax -M mem");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("\"map\":\"mem\","));
        var pfn = Cat(p, "/sys/bus/nd/devices/namespace0.0/holder").Trim();
        Assert.That(Cat(p, $"/sys/bus/nd/devices/{pfn}/mode"), Is.EqualTo("ram\n"));
        Assert.That(Cat(p, $"/sys/bus/nd/devices/{pfn}/resource"), Is.EqualTo("0x100200000\n"), "ALIGN(start + 8 KiB, 2 MiB): no memmap on the device");
        Assert.That(m.Pmem("pmem0").DataOffset, Is.EqualTo(2UL << 20));
        Assert.That(m.Pmem("pmem0").Disk.SizeBytes, Is.EqualTo(62L << 20));
    }

    [Test]
    public void Align1G_DataOffsetIsTheNext1GiBBoundary()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(3UL << 30, NamespaceMode.Raw));
        var r = Ndctl.Run(p, "create-namespace -f -e namespace0.0 -m fsdax -a 1G");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("\"align\":1073741824,"));
        var pfn = Cat(p, "/sys/bus/nd/devices/namespace0.0/holder").Trim();
        Assert.That(Cat(p, $"/sys/bus/nd/devices/{pfn}/align"), Is.EqualTo("1073741824\n"));
        // ALIGN(4 GiB + 8 KiB + 64 · PHYS_PFN(3 GiB − 8 KiB), 1 GiB) − 4 GiB = 1 GiB (the 48 MiB memmap rounds up).
        Assert.That(m.Pmem("pmem0").DataOffset, Is.EqualTo(1UL << 30));
        Assert.That(m.Pmem("pmem0").Disk.SizeBytes, Is.EqualTo(2L << 30));
    }

    [Test]
    public void DisableRegion_RemovesItsNamespacesAndDisk_EnableRegionBringsThemBack()
    {
        var (m, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
        Assert.That(Ndctl.Run(p, "disable-region region0"), Is.EqualTo(new NdctlResult(0, "", "disabled 1 region\n")));
        Assert.That(p.Open("/dev/pmem0", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.Open("/sys/bus/nd/devices/namespace0.0/mode", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(p.ReadText("/sys/bus/nd/devices/region0/badblocks", out _), Is.EqualTo(-Errno.ENXIO));
        Assert.That(Ndctl.Run(p, "list -N").Stdout, Is.Empty);
        Assert.That(Ndctl.Run(p, "enable-region region0"), Is.EqualTo(new NdctlResult(0, "", "enabled 1 region\n")));
        Assert.That(Cat(p, "/sys/bus/nd/devices/namespace0.0/mode"), Is.EqualTo("raw\n"));
        Assert.That(m.Pmem("pmem0").Disk.SizeBytes, Is.EqualTo(64L << 20));
    }

    [Test]
    public void TwoRegions_NamedAsLinuxNamesThem()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o =>
        {
            o.Regions.Add(new PmemRegionSpec { Namespaces = [new PmemNamespaceSpec(32UL << 20, NamespaceMode.Raw)] });
            o.Regions.Add(new PmemRegionSpec { Namespaces = [new PmemNamespaceSpec(32UL << 20, NamespaceMode.Raw)] });
        }).Build();
        var p = m.Spawn("ndctl");
        var r = Ndctl.Run(p, "list -R -N");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Is.EqualTo("""
            {
              "regions":[
                {
                  "dev":"region1",
                  "size":33554432,
                  "align":16777216,
                  "available_size":0,
                  "max_available_extent":0,
                  "type":"pmem",
                  "iset_id":13021032432740728833,
                  "persistence_domain":"cpu_cache",
                  "namespaces":[
                    {
                      "dev":"namespace1.0",
                      "mode":"raw",
                      "size":33554432,
                      "uuid":"00000001-0000-4000-8000-000000000000",
                      "sector_size":512,
                      "blockdev":"pmem1"
                    }
                  ]
                },
                {
                  "dev":"region0",
                  "size":33554432,
                  "align":16777216,
                  "available_size":0,
                  "max_available_extent":0,
                  "type":"pmem",
                  "iset_id":13021032424150794240,
                  "persistence_domain":"cpu_cache",
                  "namespaces":[
                    {
                      "dev":"namespace0.0",
                      "mode":"raw",
                      "size":33554432,
                      "uuid":"00000000-0000-4000-8000-000000000000",
                      "sector_size":512,
                      "blockdev":"pmem0"
                    }
                  ]
                }
              ]
            }

            """));
    }

    [Test]
    public void InjectSmart_ThenListHealth()
    {
        var (_, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(64UL << 20));
        var r = Ndctl.Run(p, "inject-smart nmem0 -m 50 -s 3 -U --spares-threshold=10 --spares-alarm=on");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        r = Ndctl.Run(p, "list -DH");
        Assert.That(r, Is.EqualTo(new NdctlResult(0, """
            [
              {
                "dev":"nmem0",
                "id":"8086-5a5a0000",
                "handle":0,
                "phys_id":0,
                "health":{
                  "health_state":"non-critical",
                  "temperature_celsius":50.0,
                  "controller_temperature_celsius":25.0,
                  "spares_percentage":3,
                  "alarm_temperature":true,
                  "alarm_controller_temperature":false,
                  "alarm_spares":true,
                  "alarm_enabled_media_temperature":true,
                  "temperature_threshold":40.0,
                  "alarm_enabled_ctrl_temperature":false,
                  "alarm_enabled_spares":true,
                  "spares_threshold":10,
                  "life_used_percentage":5,
                  "shutdown_state":"dirty",
                  "shutdown_count":43
                }
              }
            ]

            """, "")));
        Assert.That(p.Machine.NvdimmBus()!.Dimms[0].HealthEvents, Is.GreaterThan(0));
    }

    [Test]
    public void Qemu_NoArs_NoInjection_ClearingFailsWithEio()
    {
        var (m, p) = Boot(NvdimmPlatform.Qemu, new PmemNamespaceSpec(64UL << 20, NamespaceMode.Raw));
        Assert.That(Ndctl.Run(p, "inject-error namespace0.0 -B 8 -n 1"), Is.EqualTo(new NdctlResult(161, "", "namespace0.0: error injection not supported\n")));
        Assert.That(p.Open("/sys/bus/nd/devices/ndbus0/nfit/scrub", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT), "no ARS: the scrub attribute is not visible");
        Assert.That(m.InjectPoison(new PhysAddr((4UL << 30) + 4096)), Is.Zero);
        var buf = p.MapAnonymous(4096);
        var fd = (int)p.Open("/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(p.Pread64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.EqualTo("8 1\n"));
        Assert.That(p.Pwrite64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO), "nvdimm_clear_poison: ARS_CAP is -ENOTTY");
        Assert.That(p.Pwrite64(fd, buf, 4096, 4096), Is.EqualTo(-Errno.EIO), "and again");
        Assert.That(Cat(p, "/sys/block/pmem0/badblocks"), Is.EqualTo("8 1\n"));
        Assert.That(p.Close(fd), Is.Zero);
        var r = Ndctl.Run(p, "clear-errors namespace0.0");
        Assert.That(r.Rc, Is.EqualTo(161));
        Assert.That(r.Stderr, Does.StartWith("  Error: namespace0.0: Unable to determine scrub state: Operation not supported\n"));
    }

    [TestCase("disable-namespace namespace0.7", 250, "", "error disabling namespaces: No such device or address\ndisabled 0 namespaces\n")]
    [TestCase("create-namespace -e namespace0.0 -m fsdax", 240, "", "  Error: namespace0.0 is active, specify --force for re-configuration\n\nfailed to reconfigure namespace: Device or resource busy\n")]
    [TestCase("create-namespace -m sector -r region0", 237, "", "failed to create namespace: No space left on device\n")]
    [TestCase("create-namespace -m frob", 129, "", null)]
    public void BadInput_NdctlsMessageAndExitCode(string line, int rc, string? stdout, string? stderr)
    {
        var (_, p) = Boot(NvdimmPlatform.NfitTest, new PmemNamespaceSpec(32UL << 20, NamespaceMode.Raw));
        var r = Ndctl.Run(p, line);
        Assert.That(r.Rc, Is.EqualTo(rc), r.Stderr);
        if (stdout != null) Assert.That(r.Stdout, Is.EqualTo(stdout));
        if (stderr != null) Assert.That(r.Stderr, Is.EqualTo(stderr));
        else Assert.That(r.Stderr, Does.StartWith("  Error: invalid mode 'frob'\n\n\n usage: ndctl create-namespace [<options>]\n"));
    }

    [Test]
    public void BadInput_MisalignedSize_IsRefused()
    {
        var m = new MachineBuilder().WithKernel("6.12").AddPmem(o => o.Regions.Add(new PmemRegionSpec(64UL << 20))).Build();
        var p = m.Spawn("ndctl");
        var r = Ndctl.Run(p, "create-namespace -r region0 -m raw -s 10M");
        Assert.That(r.Rc, Is.EqualTo(234), r.Stderr);
        Assert.That(r.Stderr, Is.EqualTo("  Error: create namespace: region0: align setting is 0x1000000 size 0xa00000 is misaligned\n\n"));
        r = Ndctl.Run(p, "create-namespace -r region0 -m raw -s 16M");
        Assert.That(r.Rc, Is.Zero, r.Stderr);
        Assert.That(r.Stdout, Does.Contain("\"blockdev\":\"pmem0\""));
    }
}
