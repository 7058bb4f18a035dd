using KernelSim.Block;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using static KernelSim.Tests.Pmem.PmemScenario;

namespace KernelSim.Tests.Pmem;

/// <summary>Worked scenarios S4, S5 and S10 (docs/kernel/fsdax.md) through /dev/pmem0.</summary>
public class PmemScenarioTests
{
    [Test]
    public void S4_ODirectPreadOverLatentPoison_ReturnsEio_ThenSectorKnownAt512Granularity()
    {
        var s = new PmemScenario();
        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        s.PoisonMedia(B + 4160);

        Assert.That(s.P.Pread64(fd, s.U, 8192, B), Is.EqualTo(-Errno.EIO));
        // Segment 1 (page 0) was copied before segment 2 failed; no signal, no memory_failure.
        Assert.That(s.UserBytes(0, 4096), Is.EqualTo(PatternBytes(B, 4096)));
        Assert.That(s.P.AllSignals, Is.Empty);
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(1));
        Assert.That(s.M.Mce.Log[0].Context, Is.EqualTo(KernelSim.Arch.X86.McContext.IN_KERNEL_RECOV));
        // The NFIT update ran at syscall exit: S(8) is known.
        Assert.That(s.Badblocks, Is.EqualTo($"{S(8)} 1\n"));
        Assert.That(s.M.State.Dmesg, Does.Contain("mce: [Hardware Error]: Machine check events logged"));

        Assert.That(s.P.Pread64(fd, s.U, 512, B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.P.Pread64(fd, s.U, 512, B + 4608), Is.EqualTo(512));
        Assert.That(s.UserBytes(0, 512), Is.EqualTo(PatternBytes(B + 4608, 512)));
        Assert.That(s.P.Pread64(fd, s.U, 4096, B + 4096), Is.EqualTo(-Errno.EIO));
        // is_bad_pmem refused those without touching the media: still one machine check.
        Assert.That(s.M.Mce.Log, Has.Count.EqualTo(1));
    }

    [Test]
    public void S5_BufferedPreadOverKnownBadSector_Returns4096_ThenEio()
    {
        var s = new PmemScenario();
        Assert.That(s.Dev.Disk.BadblocksStore($"{S(8)} 1\n"), Is.EqualTo($"{S(8)} 1\n".Length));
        var fd = s.Open(Fcntl.O_RDONLY);
        s.Dev.Disk.KeepSubmitted = 16;

        Assert.That(s.P.Pread64(fd, s.U, 8192, B), Is.EqualTo(4096));
        Assert.That(s.UserBytes(0, 4096), Is.EqualTo(PatternBytes(B, 4096)));
        Assert.That(s.UserBytes(4096, 16), Is.EqualTo(Enumerable.Repeat((byte)0xee, 16).ToArray()), "untouched tail");
        // Readahead built one 2-page bio that failed; folio 0 was then read alone, folio 1 failed alone.
        var bios = s.Dev.Disk.Submitted.Select(b => (b.Op, b.Sector, b.Size, b.Flags & BioFlags.REQ_RAHEAD, b.Status)).ToArray();
        Assert.That(bios, Is.EqualTo(new[]
        {
            (BioOp.REQ_OP_READ, B / 512, 8192UL, BioFlags.REQ_RAHEAD, BlkStatus.BLK_STS_IOERR),
            (BioOp.REQ_OP_READ, B / 512, 4096UL, BioFlags.None, BlkStatus.BLK_STS_OK),
            (BioOp.REQ_OP_READ, B / 512 + 8, 4096UL, BioFlags.None, BlkStatus.BLK_STS_IOERR),
        }));
        Assert.That(s.M.State.Dmesg, Does.Contain($"Buffer I/O error on dev pmem0, logical block {(B + 4096) / 4096}, async page read"));

        Assert.That(s.P.Pread64(fd, s.U, 4096, B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.M.Mce.Log, Is.Empty, "known badblocks never touch the media");
    }

    [Test]
    public void S5_BufferedPreadOverLatentPoison_Returns4096()
    {
        var s = new PmemScenario();
        s.PoisonMedia(B + 4160);
        var fd = s.Open(Fcntl.O_RDONLY);
        Assert.That(s.P.Pread64(fd, s.U, 8192, B), Is.EqualTo(4096));
        Assert.That(s.UserBytes(0, 4096), Is.EqualTo(PatternBytes(B, 4096)));
        Assert.That(s.Badblocks, Is.EqualTo($"{S(8)} 1\n"));
        Assert.That(s.P.Pread64(fd, s.U, 4096, B + 4096), Is.EqualTo(-Errno.EIO));
    }

    [TestCase("6.12")]
    [TestCase("5.18")]
    public void S10_ODirectPwrite512OverKnownBadSector_ClearsAndWrites(string kernel)
    {
        var s = new PmemScenario(kernel);
        s.PoisonMedia(B + 4160);
        Assert.That(s.Dev.Disk.BadblocksStore($"{S(8)} 1"), Is.GreaterThan(0));
        var page = s.M.Phys.Frame((ulong)(s.Dev.DataPhys((ulong)B + 4096) >> 12));
        page.Flags |= PageFlags.PG_hwpoison;
        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var data = Enumerable.Repeat((byte)0x5a, 512).ToArray();
        Assert.That(s.P.Store(s.U, data).Done, Is.EqualTo(512UL));

        Assert.That(s.P.Pwrite64(fd, s.U, 512, B + 4096), Is.EqualTo(512));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.Media(B + 4096, 512), Is.EqualTo(data));
        Assert.That(s.M.Phys.IsPoisoned(new PhysAddr(s.Dev.DataPhys((ulong)B + 4160))), Is.False, "CLEAR_ERROR cleared the media");
        Assert.That(page.IsHwPoison, Is.True, "HWPoison is reset only for whole pages");
        Assert.That(s.P.Pread64(fd, s.U + 4096UL, 512, B + 4096), Is.EqualTo(512));
    }

    [Test]
    public void S10_ClearErrUnit4096_On612_ReturnsEioWithoutWriting()
    {
        var s = new PmemScenario("6.12", o => o.ClearErrUnit = 4096);
        Assert.That(s.Dev.Disk.BadblocksStore($"{S(8)} 1"), Is.GreaterThan(0));
        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(s.P.Store(s.U, Enumerable.Repeat((byte)0x5a, 512).ToArray()).Done, Is.EqualTo(512UL));

        Assert.That(s.P.Pwrite64(fd, s.U, 512, B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.Media(B + 4096, 512), Is.EqualTo(PatternBytes(B + 4096, 512)), "nothing written");
        Assert.That(s.Badblocks, Is.EqualTo($"{S(8)} 1\n"));
        Assert.That(s.Dev.ClearPoisonRaw(s.Dev.ToOffset(S(8)), 512), Is.EqualTo(-Errno.ENXIO));
    }

    [Test]
    public void S10_ClearErrUnit4096_On518_WritesButReturnsEio()
    {
        var s = new PmemScenario("5.18", o => o.ClearErrUnit = 4096);
        Assert.That(s.Dev.Disk.BadblocksStore($"{S(8)} 1"), Is.GreaterThan(0));
        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        var data = Enumerable.Repeat((byte)0x5a, 512).ToArray();
        Assert.That(s.P.Store(s.U, data).Done, Is.EqualTo(512UL));

        Assert.That(s.P.Pwrite64(fd, s.U, 512, B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.Media(B + 4096, 512), Is.EqualTo(data), "≤5.18 writes before clearing");
        Assert.That(s.Badblocks, Is.EqualTo($"{S(8)} 1\n"));
    }

    [TestCase("6.12")]
    [TestCase("5.18")]
    public void S10_LegacyE820_PretendsToClear_MediaPoisonStays(string kernel)
    {
        var s = new PmemScenario(kernel, o => o.LegacyE820 = true);
        s.PoisonMedia(B + 4160);
        Assert.That(s.Dev.Disk.BadblocksStore($"{S(8)} 1"), Is.GreaterThan(0));
        var fd = s.Open(Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(s.P.Store(s.U, Enumerable.Repeat((byte)0x5a, 512).ToArray()).Done, Is.EqualTo(512UL));

        Assert.That(s.P.Pwrite64(fd, s.U, 512, B + 4096), Is.EqualTo(512));
        Assert.That(s.Badblocks, Is.EqualTo(""));
        Assert.That(s.M.Phys.IsPoisoned(new PhysAddr(s.Dev.DataPhys((ulong)B + 4160))), Is.True);
        // No NFIT: the next read consumes the poison again and nothing records it.
        Assert.That(s.P.Pread64(fd, s.U, 512, B + 4096), Is.EqualTo(-Errno.EIO));
        Assert.That(s.Badblocks, Is.EqualTo(""));
    }
}
