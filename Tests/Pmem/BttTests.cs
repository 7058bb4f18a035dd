using System.Buffers.Binary;
using KernelSim.Block;
using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Pmem;

/// <summary>The BTT (drivers/nvdimm/btt.c) over a raw 64 MiB namespace: layout on the media, I/O through the map and flog, errors.</summary>
public class BttTests
{
    private static readonly Guid Uuid = Guid.Parse("8a6a3e5f-1b2c-4d3e-9f40-5a6b7c8d9e0f");

    // Geometry of one arena on 64 MiB − 4 KiB with 512-byte blocks (alloc_arena by hand).
    private const uint ExternalNlba = 129736, InternalNlba = 129992;
    private const ulong Dataoff = 0x1000, Mapoff = 0x3F7B000, Logoff = 0x3FFA000, Info2off = 0x3FFE000;

    private sealed class Rig
    {
        public required Machine M;
        public required PmemDevice Dev;
        public required Nsio Ns;
        public Btt Btt = null!;
        public Process P = null!;
        public UserPtr U;

        /// <summary>Media bytes at a BTT raw offset (after the 4 KiB initial offset).</summary>
        public byte[] Raw(ulong off, int len)
        {
            var b = new byte[len];
            M.Phys.PeekBytes(new PhysAddr(Dev.PhysAddr + 4096 + off), b);
            return b;
        }

        public uint Map(uint lba) => BinaryPrimitives.ReadUInt32LittleEndian(Raw(Mapoff + lba * 4UL, 4));

        public BttLogEntry Log(uint lane, int slot) => BttLogEntry.Read(Raw(Logoff + lane * 64UL + (ulong)slot * 16, 16));

        public ulong DataPhys(uint block) => Dev.PhysAddr + 4096 + Dataoff + block * 512UL;

        public int Fd(int flags = Fcntl.O_RDWR | Fcntl.O_DIRECT) => (int)P.Open("/dev/pmem0s", flags);
    }

    private static Rig Boot(string kernel = "6.12", Action<PmemOptions>? more = null)
    {
        var (m, dev, ns) = NsioTests.Raw(kernel, more: more);
        var r = new Rig { M = m, Dev = dev, Ns = ns };
        Assert.That(Btt.Attach(m, ns, 512, Uuid, Guid.Empty, out var btt), Is.EqualTo(0));
        r.Btt = btt!;
        r.P = m.Spawn("dd");
        r.U = r.P.MapAnonymous(8192);
        return r;
    }

    [Test]
    public void Attach_WritesTheArenaLayout_InfoBlockBytesAndChecksum()
    {
        var r = Boot();
        var a = r.Btt.Arenas.Single();
        Assert.That((a.ExternalNlba, a.InternalNlba, a.Dataoff, a.Mapoff, a.Logoff, a.Info2off, a.Nextoff),
            Is.EqualTo((ExternalNlba, InternalNlba, Dataoff, Mapoff, Logoff, Info2off, 0UL)));
        Assert.That(r.Btt.Disk!.Name, Is.EqualTo("pmem0s"));
        Assert.That(r.Btt.Disk.CapacitySectors, Is.EqualTo((long)ExternalNlba));
        Assert.That(r.Btt.Disk.LogicalBlockSize, Is.EqualTo(512u));
        Assert.That(r.Btt.Discovered, Is.False);
        Assert.That(r.M.State.Dmesg, Does.Contain("nd_btt namespace0.0: No existing arenas"));

        var sb = r.Raw(0, 4096);
        Assert.That(sb[..16], Is.EqualTo("BTT_ARENA_INFO\0\0"u8.ToArray()));
        Assert.That(sb[16..32], Is.EqualTo(Convert.FromHexString("8A6A3E5F1B2C4D3E9F405A6B7C8D9E0F")));
        Assert.That(sb[32..48], Is.All.Zero, "parent_uuid of a label-less namespace");
        Assert.That(sb[48..120], Is.EqualTo(Convert.FromHexString(
            "00000000" + "0100" + "0100" + "00020000" + "C8FA0100" + "00020000" + "C8FB0100" + "00010000" + "00100000" +
            "0000000000000000" + "0010000000000000" + "00B0F70300000000" + "00A0FF0300000000" + "00E0FF0300000000")));
        Assert.That(sb[120..4088], Is.All.Zero);
        // nd_fletcher64 over the block with the checksum field zero, computed independently.
        uint lo = 0;
        ulong hi = 0;
        for (var i = 0; i < 4096; i += 4)
        {
            lo += i < 4088 ? BinaryPrimitives.ReadUInt32LittleEndian(sb.AsSpan(i)) : 0;
            hi += lo;
        }
        Assert.That(BinaryPrimitives.ReadUInt64LittleEndian(sb.AsSpan(4088)), Is.EqualTo(hi << 32 | lo));
        Assert.That(r.Raw(Info2off, 4096), Is.EqualTo(sb), "info2 is a copy");
        var before = new byte[4096];
        r.M.Phys.PeekBytes(new PhysAddr(r.Dev.PhysAddr), before);
        Assert.That(before, Is.All.Zero, "the first 4 KiB (initial_offset) is not touched");
    }

    [Test]
    public void Attach_InitialisesMapAndFlog()
    {
        var r = Boot();
        Assert.That(r.Map(0), Is.Zero);
        Assert.That(r.Map(ExternalNlba - 1), Is.Zero);
        Assert.That(r.Log(0, 0), Is.EqualTo(new BttLogEntry(0, ExternalNlba, ExternalNlba, 1)));
        Assert.That(r.Log(255, 0), Is.EqualTo(new BttLogEntry(255, ExternalNlba + 255, ExternalNlba + 255, 1)));
        Assert.That(r.Log(0, 1).IsPadding && r.Log(0, 2).IsPadding && r.Log(0, 3).IsPadding, Is.True);
        Assert.That(r.Btt.Arenas[0].FreeBlock(0), Is.EqualTo(ExternalNlba));
    }

    [Test]
    public void Write_GoesToTheFreeBlock_ThenFlogThenMap_AndReadsBackThroughTheMap()
    {
        var r = Boot();
        var fd = r.Fd();
        r.P.Fill(r.U, 512, i => (byte)(i + 1));
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 5 * 512), Is.EqualTo(512));
        Assert.That(r.Map(5), Is.EqualTo(0xC0000000u | ExternalNlba));
        Assert.That(r.Raw(Mapoff + 20, 4), Is.EqualTo(new byte[] { 0xC8, 0xFA, 0x01, 0xC0 }));
        Assert.That(r.Log(0, 1), Is.EqualTo(new BttLogEntry(5, 5, ExternalNlba, 2)));
        Assert.That(r.Btt.Arenas[0].FreeBlock(0), Is.EqualTo(5u), "the old block is the lane's next free block");
        var media = new byte[512];
        r.M.Phys.PeekBytes(new PhysAddr(r.DataPhys(ExternalNlba)), media);
        Assert.That(media[..4], Is.EqualTo(new byte[] { 1, 2, 3, 4 }));

        r.P.Fill(r.U, 512, i => (byte)(i + 9));
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 5 * 512), Is.EqualTo(512));
        Assert.That(r.Map(5), Is.EqualTo(0xC0000005u));
        Assert.That(r.Log(0, 0), Is.EqualTo(new BttLogEntry(5, ExternalNlba, 5, 3)));
        Assert.That(r.Btt.Arenas[0].FreeBlock(0), Is.EqualTo(ExternalNlba));

        Assert.That(r.P.Pread64(fd, r.U + 4096UL, 512, 5 * 512), Is.EqualTo(512));
        Assert.That(r.P.Peek(r.U + 4096UL, 3), Is.EqualTo(new byte?[] { 9, 10, 11 }));
    }

    [Test]
    public void Reattach_DiscoversTheArena_AndKeepsTheData()
    {
        var r = Boot();
        var fd = r.Fd();
        r.P.Fill(r.U, 4096, i => (byte)(i * 3));
        Assert.That(r.P.Pwrite64(fd, r.U, 4096, 40 * 512), Is.EqualTo(4096));
        r.P.Close(fd);
        Assert.That(r.Btt.Detach(), Is.EqualTo(0));
        Assert.That(r.Btt.Detach(), Is.EqualTo(-Errno.ENXIO));
        Assert.That(r.P.Open("/dev/pmem0s", Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));

        Assert.That(Btt.Attach(r.M, r.Ns, 512, Uuid, Guid.Empty, out var again), Is.EqualTo(0));
        Assert.That(again!.Discovered, Is.True);
        Assert.That(again.Nlba, Is.EqualTo((ulong)ExternalNlba));
        Assert.That(again.Arenas[0].LogIndex, Is.EqualTo(new[] { 0, 1 }));
        Assert.That(again.Arenas[0].FreeBlock(0), Is.EqualTo(47u), "lane 0 last wrote LBA 47: its old block is free");
        fd = r.Fd();
        Assert.That(r.P.Pread64(fd, r.U + 4096UL, 4096, 40 * 512), Is.EqualTo(4096));
        Assert.That(r.P.Peek(r.U + 4096UL + 4093UL, 3), Is.EqualTo(new byte?[] { unchecked((byte)(4093 * 3)), unchecked((byte)(4094 * 3)), unchecked((byte)(4095 * 3)) }));
    }

    [Test]
    public void Reattach_AfterAnInterruptedWrite_RecoversTheMapFromTheFlog()
    {
        var r = Boot();
        var fd = r.Fd();
        r.P.Fill(r.U, 512, _ => 0x5a);
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 9 * 512), Is.EqualTo(512));
        r.P.Close(fd);
        r.Btt.Detach();
        // Power loss between the flog write and the map write: the map still says "identity".
        r.M.Phys.PokeBytes(new PhysAddr(r.Dev.PhysAddr + 4096 + Mapoff + 9 * 4), [0, 0, 0, 0]);
        Assert.That(Btt.Attach(r.M, r.Ns, 512, Uuid, Guid.Empty, out _), Is.EqualTo(0));
        Assert.That(r.Map(9), Is.EqualTo(0xC0000000u | ExternalNlba), "btt_freelist_init finished the write");
    }

    [Test]
    public void CorruptInfoBlock_IsNotFound_AndANewLayoutIsWritten()
    {
        var r = Boot();
        var fd = r.Fd();
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 0), Is.EqualTo(512));
        r.P.Close(fd);
        r.Btt.Detach();
        r.M.Phys.PokeBytes(new PhysAddr(r.Dev.PhysAddr + 4096 + 100), [0xff]);
        Assert.That(Btt.ReadInfoBlock(r.M, r.Ns, Guid.Empty, out _), Is.EqualTo(-Errno.ENODEV));
        Assert.That(Btt.Attach(r.M, r.Ns, 512, Uuid, Guid.Empty, out var again), Is.EqualTo(0));
        Assert.That(again!.Discovered, Is.False);
        Assert.That(r.Map(0), Is.Zero, "the map was written again");
        Assert.That(Btt.ReadInfoBlock(r.M, r.Ns, Guid.Empty, out var sb), Is.EqualTo(0));
        Assert.That(sb!.ExternalNlba, Is.EqualTo(ExternalNlba));
        Assert.That(Btt.ReadInfoBlock(r.M, r.Ns, Guid.NewGuid(), out _), Is.EqualTo(0), "a zero parent_uuid matches any namespace");
    }

    [Test]
    public void ReadOfABadBlock_IsEio_SetsTheEFlag_AndAWriteRemapsAndClearsIt()
    {
        var r = Boot();
        // LBA 7 is still identity-mapped: its data block is block 7, namespace sector (4096 + 4096 + 7·512) / 512 = 23.
        Assert.That(Ndctl.Run(r.M.Spawn("ndctl"), "inject-error namespace0.0 --block=23 --count=1").Rc, Is.Zero);
        r.Ns.RevalidatePoison(); // nd_pmem_notify for a BTT claim
        Assert.That(r.Ns.Bb.Show(), Is.EqualTo("23 1\n"));
        var fd = r.Fd();
        Assert.That(r.P.Pread64(fd, r.U, 512, 7 * 512), Is.EqualTo(-Errno.EIO));
        Assert.That(r.Map(7), Is.EqualTo(0x40000007u), "E flag only");
        Assert.That(r.M.State.Dmesg, Does.Contain("nd_btt namespace0.0: io error in READ sector 7, len 512,"));
        Assert.That(r.P.Pread64(fd, r.U, 512, 7 * 512), Is.EqualTo(-Errno.EIO), "the map answers without the media");

        r.P.Fill(r.U, 512, _ => 0x77);
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 7 * 512), Is.EqualTo(512));
        Assert.That(r.Map(7), Is.EqualTo(0xC0000000u | ExternalNlba));
        Assert.That(r.Log(0, 1), Is.EqualTo(new BttLogEntry(7, 0x40000007u, ExternalNlba, 2)));
        Assert.That(r.Ns.Bb.Count, Is.Zero, "the old block was cleared as the lane's free block");
        Assert.That(r.Btt.Arenas[0].FreeBlockHasError(0), Is.False);
        Assert.That(r.M.Phys.IsPoisoned(new PhysAddr(r.DataPhys(7))), Is.False);
        Assert.That(r.P.Pread64(fd, r.U + 4096UL, 512, 7 * 512), Is.EqualTo(512));
        Assert.That(r.P.Peek(r.U + 4096UL, 2), Is.EqualTo(new byte?[] { 0x77, 0x77 }));
    }

    [Test]
    public void LatentPoisonInTheDataBlock_ReadIsEio_AndMarksTheMap()
    {
        var r = Boot();
        Assert.That(r.M.InjectPoison(new PhysAddr(r.DataPhys(3) + 64)), Is.EqualTo(0));
        var fd = r.Fd();
        Assert.That(r.P.Pread64(fd, r.U, 512, 3 * 512), Is.EqualTo(-Errno.EIO));
        Assert.That(r.Map(3), Is.EqualTo(0x40000003u));
        Assert.That(r.P.SignalsReceived, Is.Empty, "an in-kernel copy_mc read: no signal");
    }

    [Test]
    public void WriteWhoseFreeBlockIsBad_ClearsItFirst()
    {
        var r = Boot();
        // Lane 0's free block is ExternalNlba: namespace sector (8192 + ExternalNlba·512) / 512.
        var sector = (8192 + ExternalNlba * 512UL) / 512;
        Assert.That(Ndctl.Run(r.M.Spawn("ndctl"), $"inject-error namespace0.0 --block={sector} --count=1").Rc, Is.Zero);
        r.Ns.RevalidatePoison();
        var fd = r.Fd();
        r.P.Fill(r.U, 512, _ => 0x31);
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 2 * 512), Is.EqualTo(512));
        Assert.That(r.Ns.Bb.Count, Is.Zero);
        Assert.That(r.Map(2), Is.EqualTo(0xC0000000u | ExternalNlba));
    }

    [Test]
    public void WhenPoisonCannotBeCleared_AWriteToABadFreeBlockLoopsForever()
    {
        // clear_err_unit 0 (a platform without a working clear-error DSM): nsio_rw_bytes returns 0 without clearing,
        // so btt_write_pg retries with the same bad free block forever.
        var r = Boot(more: o => o.ClearErrUnit = 0);
        var sector = (8192 + ExternalNlba * 512UL) / 512;
        Assert.That(r.M.NvdimmBus()!.Firmware!.InjectSet(r.Dev.PhysAddr + sector * 512, 512, notify: true), Is.EqualTo(0));
        r.M.WorkQueue.RunPending();
        r.Ns.RevalidatePoison();
        var fd = r.Fd();
        Assert.That(r.P.Pwrite64(fd, r.U, 512, 0), Is.EqualTo(Machine.NoReturn));
        Assert.That(r.M.State.Status, Is.EqualTo(MachineStatus.Running));
    }

    [Test]
    public void UnalignedSegment_And4096ByteSectors()
    {
        var (m, _, ns) = NsioTests.Raw();
        Assert.That(Btt.Attach(m, ns, 4096, Uuid, Guid.Empty, out var btt), Is.EqualTo(0));
        Assert.That(btt!.SectorSize, Is.EqualTo(4096u));
        Assert.That(btt.Disk!.LogicalBlockSize, Is.EqualTo(4096u));
        Assert.That(btt.Arenas[0].InternalLbasize, Is.EqualTo(4096u));
        var p = m.Spawn();
        var u = p.MapAnonymous(8192);
        var fd = (int)p.Open("/dev/pmem0s", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(p.Pwrite64(fd, u, 512, 0), Is.EqualTo(-Errno.EINVAL), "the block layer refuses less than a logical block");
        var bio = new Bio(btt.Disk, BioOp.REQ_OP_WRITE, 0);
        bio.AddPage(m.Phys.AllocContiguous(1) is var pfn and >= 0 ? (ulong)pfn : 0, 512, 0);
        Assert.That(btt.Disk.SubmitBio(bio), Is.EqualTo(BlkStatus.BLK_STS_IOERR));
        Assert.That(m.State.Dmesg, Does.Contain("nd_btt namespace0.0: unaligned bio segment (len: 512)"));
    }

    [Test]
    public void Attach_BadConfiguration_Errnos()
    {
        var (m, _, ns) = NsioTests.Raw();
        Assert.That(Btt.Attach(m, ns, 512, null, Guid.Empty, out _), Is.EqualTo(-Errno.ENODEV));
        Assert.That(Btt.Attach(m, ns, 0, Uuid, Guid.Empty, out _), Is.EqualTo(-Errno.ENODEV));
        Assert.That(Btt.Attach(m, ns, 1000, Uuid, Guid.Empty, out _), Is.EqualTo(-Errno.EINVAL));
        var (m2, _, small) = NsioTests.Raw(size: 16UL << 20);
        Assert.That(Btt.Attach(m2, small, 512, Uuid, Guid.Empty, out _), Is.EqualTo(-Errno.ENXIO), "16 MiB − 4 KiB is under ARENA_MIN_SIZE");
    }

    [Test]
    public void Lbasize520_InternalBlocksOf576()
    {
        var (m, _, ns) = NsioTests.Raw();
        Assert.That(Btt.Attach(m, ns, 520, Uuid, Guid.Empty, out var btt), Is.EqualTo(0));
        Assert.That((btt!.SectorSize, btt.Arenas[0].InternalLbasize, btt.Arenas[0].ExternalLbasize), Is.EqualTo((512u, 576u, 520u)));
    }

    [Test]
    public void PlanArenas_512GiBArenas_ASmallTailIsUnused()
    {
        const ulong G = 1UL << 30, M = 1UL << 20;
        var two = Btt.PlanArenas(512 * G + 32 * M, 4096);
        Assert.That(two, Has.Count.EqualTo(2));
        Assert.That((two[0].Size, two[0].Nextoff, two[1].Size, two[1].Nextoff, two[1].Infooff),
            Is.EqualTo((512 * G, 512 * G, 32 * M, 0UL, 512 * G)));
        Assert.That(two[1].ExternalLbaStart, Is.EqualTo((ulong)two[0].ExternalNlba));
        var one = Btt.PlanArenas(512 * G + 8 * M, 4096);
        Assert.That(one, Has.Count.EqualTo(1));
        Assert.That(one[0].Nextoff, Is.Zero);
    }
}
