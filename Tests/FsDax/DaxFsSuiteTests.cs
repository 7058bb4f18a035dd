using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>A filesystem-level suite in the spirit of xfstests for the DAX paths (each also on dax=never where it applies).</summary>
public class DaxFsSuiteTests
{
    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void SparseFile_HoleReadsZeros_NoBlocksAllocated(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 0);
        Assert.That(s.P.Ftruncate(fd, 3 * 4096), Is.Zero);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 1000), Is.EqualTo(8192));
        Assert.That(s.UserBytes(s.U, 8192), Is.EqualTo(new byte[8192]));
        Assert.That(s.Fs.Fiemap("F"), Is.Empty);
        Assert.That(s.Fs.DeviceOffsetOf("F", 0), Is.EqualTo(-1));
    }

    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void Fallocate_UnwrittenExtent_ReadsZeros_WriteConverts_KeepSizeKeepsSize(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 100);
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_KEEP_SIZE, 0, 4 * 4096), Is.Zero);
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(100));
        Assert.That(s.P.Fallocate(fd, 0, 4096, 4 * 4096), Is.Zero);
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(5 * 4096));
        var ext = s.Fs.Fiemap("F");
        Assert.That(ext[0], Is.EqualTo((0L, ext[0].DeviceOffset, 4096L, false)), "the written block");
        Assert.That(ext.Skip(1).All(e => e.Unwritten), Is.True);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 4096), Is.EqualTo(8192));
        Assert.That(s.UserBytes(s.U, 8192), Is.EqualTo(new byte[8192]), "unwritten reads as zeros");
        s.WriteData(fd, 8192 + 10, 20);
        Assert.That(s.Fs.Fiemap("F").Single(e => e.FileOffset <= 8192 && e.FileOffset + e.Length > 8192).Unwritten, Is.False, "converted");
        Assert.That(s.P.Pread64(fd, s.U, 4096, 8192), Is.EqualTo(4096));
        var want = new byte[4096];
        DaxScenario.DataBytes(8192 + 10, 20).CopyTo(want, 10);
        Assert.That(s.UserBytes(s.U, 4096), Is.EqualTo(want), "the rest of the converted block was zeroed");
    }

    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void WriteBeyondEof_ExtendsFile_GapReadsZeros(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 0);
        s.WriteData(fd, 10000, 100);
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(10100));
        Assert.That(s.P.Pread64(fd, s.U, 20000, 0), Is.EqualTo(10100));
        Assert.That(s.UserBytes(s.U, 10000), Is.EqualTo(new byte[10000]));
        Assert.That(s.UserBytes(s.U + 10000UL, 100), Is.EqualTo(DaxScenario.DataBytes(10000, 100)));
        Assert.That(s.UserBytes(s.U + 10100UL, 100), Is.EqualTo(DaxScenario.Filled(100)));
        Assert.That(s.Fs.Fiemap("F").Select(e => e.FileOffset), Is.EqualTo(new[] { 8192L }), "only the written block is allocated");
    }

    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void PreadPwriteAtEof(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 5000);
        Assert.That(s.P.Pread64(fd, s.U, 100, 5000), Is.Zero, "at EOF");
        Assert.That(s.P.Pread64(fd, s.U, 100, 9000), Is.Zero, "past EOF");
        Assert.That(s.P.Pread64(fd, s.U, 100, 4950), Is.EqualTo(50), "straddling EOF");
        Assert.That(s.UserBytes(s.U + 50UL, 50), Is.EqualTo(DaxScenario.Filled(50)));
        Assert.That(s.P.Pread64(fd, s.U, 0, 0), Is.Zero, "zero-length read");
        s.WriteData(fd, 5000, 300);
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(5300));
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(5300));
        Assert.That(s.UserBytes(s.U, 5300), Is.EqualTo(DaxScenario.DataBytes(0, 5300)));
        var afd = (int)s.P.Open(s.Path("F"), Fcntl.O_WRONLY | Fcntl.O_APPEND);
        Assert.That(s.P.Pwrite64(afd, s.U, 10, 0), Is.EqualTo(10), "O_APPEND ignores the offset");
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(5310));
    }

    [Test]
    public void TruncateWhileMapped_TouchPastNewEof_SigbusAdrerr_Lsb0()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 3 * 4096);
        var p = s.MapFile(fd, 3 * 4096);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 8192UL, out _).Signal, Is.Null);
        var blocks = s.Fs.Volume.FreeBlocks;

        Assert.That(s.P.Ftruncate(fd, 4096 + 10), Is.Zero);

        Assert.That(s.P.Mm.PfnAt(p.Value + 8192), Is.Null, "unmapped by truncate_pagecache");
        Assert.That(s.P.LoadByte(p + 8192UL + 5, out _).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, p.Value + 8192 + 5, 0, Forced: true)));
        Assert.That(s.P.LoadByte(p + 4096UL + 9, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(4096 + 9)));
        Assert.That(s.P.LoadByte(p + 4096UL + 10, out b).Signal, Is.Null, "the rest of the EOF page is mapped");
        Assert.That(b, Is.Zero, "dax_truncate_page zeroed the tail");
        Assert.That(s.Fs.Volume.FreeBlocks, Is.EqualTo(blocks + 1));
    }

    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void TruncateDownThenUp_TailReadsZeros(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 8192);
        Assert.That(s.P.Ftruncate(fd, 5000), Is.Zero);
        Assert.That(s.P.Ftruncate(fd, 8192), Is.Zero);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(8192));
        Assert.That(s.UserBytes(s.U, 5000), Is.EqualTo(DaxScenario.DataBytes(0, 5000)));
        Assert.That(s.UserBytes(s.U + 5000UL, 3192), Is.EqualTo(new byte[3192]));
        Assert.That(s.P.Ftruncate(fd, -1), Is.EqualTo(-Errno.EINVAL));
        var ro = s.Open("F", Fcntl.O_RDONLY);
        Assert.That(s.P.Ftruncate(ro, 0), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void TruncateOverAKnownBadTailPage_Eio_SizeUnchanged()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", 8192);
        s.MarkBad("F", 4096);
        Assert.That(s.P.Ftruncate(fd, 4096 + 100), Is.EqualTo(-Errno.EIO), "dax_truncate_page → dax_memzero → direct access");
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(8192));
        Assert.That(s.P.Ftruncate(fd, 4096), Is.Zero, "a block boundary needs no zeroing");
    }

    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void PunchHole_FreesWholeBlocks_ZeroesEdges_ReadsZeros(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 4 * 4096);
        var free = s.Fs.Volume.FreeBlocks;
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE, 100, 4096), Is.EqualTo(-Errno.EOPNOTSUPP), "needs KEEP_SIZE");
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 100, 2 * 4096), Is.Zero);
        Assert.That(s.Fs.Volume.FreeBlocks, Is.EqualTo(free + 1), "only block 1 is whole");
        Assert.That(s.Fs.Lookup("F")!.Size, Is.EqualTo(4 * 4096));
        Assert.That(s.P.Pread64(fd, s.U, 4 * 4096, 0), Is.EqualTo(4 * 4096));
        Assert.That(s.UserBytes(s.U, 100), Is.EqualTo(DaxScenario.DataBytes(0, 100)));
        Assert.That(s.UserBytes(s.U + 100UL, 8192), Is.EqualTo(new byte[8192]));
        Assert.That(s.UserBytes(s.U + 8292UL, 4 * 4096 - 8292), Is.EqualTo(DaxScenario.DataBytes(8292, 4 * 4096 - 8292)));
    }

    [Test]
    public void PunchHoleWhileMapped_UnmapsThePage_NextReadFaultMapsTheZeroPage()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 3 * 4096);
        var p = s.MapFile(fd, 3 * 4096);
        Assert.That(s.P.LoadByte(p + 4096UL, out _).Signal, Is.Null);
        Assert.That(s.P.Fallocate(fd, Fcntl.FALLOC_FL_PUNCH_HOLE | Fcntl.FALLOC_FL_KEEP_SIZE, 4096, 4096), Is.Zero);
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.Null);
        Assert.That(s.P.LoadByte(p + 4096UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.Zero);
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.EqualTo(s.Fs.FsDax.ZeroPfn), "dax_load_hole");
    }

    [Test]
    public void HoleMappedByReadFault_ThenWrite2Allocates_TheZeroPageIsUnmapped_LoadSeesData()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 0);
        Assert.That(s.P.Ftruncate(fd, 2 * 4096), Is.Zero);
        var p = s.MapFile(fd, 2 * 4096);
        Assert.That(s.P.LoadByte(p + 4096UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.Zero);
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.EqualTo(s.Fs.FsDax.ZeroPfn));
        s.WriteData(fd, 4096, 64);
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.Null, "IOMAP_F_NEW: hole mappings torn down");
        Assert.That(s.P.LoadByte(p + 4096UL + 3, out b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(4096 + 3)));
        Assert.That(s.P.Mm.PfnAt(p.Value + 4096), Is.EqualTo(s.PhysOf("F", 4096).Pfn), "the pmem page itself");
    }

    [Test]
    public void SharedWriteFault_OnHole_AllocatesZeroedBlock_StoreReachesPmem()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 0);
        Assert.That(s.P.Ftruncate(fd, 4096), Is.Zero);
        var p = s.MapFile(fd, 4096, Mman.PROT_READ | Mman.PROT_WRITE);
        Assert.That(s.P.LoadByte(p, out _).Signal, Is.Null);
        Assert.That(s.P.Store(p + 7UL, [1, 2, 3]).Done, Is.EqualTo(3UL));
        var data = new byte[16];
        s.M.Phys.PeekBytes(s.PhysOf("F", 0), data);
        Assert.That(data, Is.EqualTo(new byte[] { 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 0, 0, 0, 0, 0, 0 }));
        Assert.That(s.P.Pread64(fd, s.U, 16, 0), Is.EqualTo(16));
        Assert.That(s.UserBytes(s.U, 16), Is.EqualTo(data));
    }

    [Test]
    public void PrivateWriteFault_CopiesThePage_FileUnchanged()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 4096);
        var p = s.MapFile(fd, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE);
        Assert.That(s.P.LoadByte(p + 1UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(1)));
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.EqualTo(s.PhysOf("F", 0).Pfn), "read fault maps pmem");
        Assert.That(s.P.Store(p + 1UL, [0x99]).Done, Is.EqualTo(1UL));
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Not.EqualTo(s.PhysOf("F", 0).Pfn), "CoW to an anonymous page");
        Assert.That(s.P.LoadByte(p + 2UL, out b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(2)), "copied");
        Assert.That(s.P.Pread64(fd, s.U, 4, 0), Is.EqualTo(4));
        Assert.That(s.UserBytes(s.U, 4), Is.EqualTo(DaxScenario.DataBytes(0, 4)), "the file is unchanged");
    }

    [TestCase("6.12", Sig.BUS_MCEERR_AR, 12)]
    [TestCase("6.5", Sig.BUS_MCEERR_AR, 12)]
    [TestCase("6.4", Sig.BUS_ADRERR, 0)]
    [TestCase("5.10", Sig.BUS_ADRERR, 0)]
    public void PrivateWriteFault_OverAKnownBadPage_DirectAccessErrorGoesStraightToVmfError(string kernel, int code, int lsb)
    {
        var s = new DaxScenario(kernel, huge: false);
        var fd = s.CreateFile("F", 4096);
        s.MarkBad("F", 0);
        var p = s.MapFile(fd, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        // copy_cow_page_dax returns dax_direct_access's error unchanged (no dax_mem2blk_err): −EHWPOISON (6.5+) →
        // VM_FAULT_HWPOISON → BUS_MCEERR_AR at the faulting address, lsb PAGE_SHIFT; −EIO (≤6.4) → VM_FAULT_SIGBUS.
        Assert.That(s.P.Store(p + 9UL, [1]).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, code, p.Value + 9, (short)lsb, Forced: true)));
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Null, "nothing mapped");
        Assert.That(s.M.State.Alive, Is.True);
        Assert.That(s.M.State.Dmesg.Any(l => l.StartsWith("MCE: Killing app:", StringComparison.Ordinal)), Is.EqualTo(code == Sig.BUS_MCEERR_AR));
    }

    [TestCase("6.12")]
    [TestCase("6.4")]
    [TestCase("4.14")]
    public void PrivateWriteFault_OverLatentPoison_CopyPageHasNoFixup_Panics(string kernel)
    {
        var s = new DaxScenario(kernel, huge: false, trace: true);
        var fd = s.CreateFile("F", 4096);
        s.PoisonFile("F", 200);
        var p = s.MapFile(fd, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);

        // copy_cow_page_dax → copy_user_page → copy_page in every release: the load of the poisoned line is a kernel
        // #MC with no exception-table entry.
        var r = s.P.Store(p + 9UL, [1]);

        Assert.That(r.Signal, Is.Null);
        Assert.That(s.M.State.Alive, Is.False);
        Assert.That(s.M.State.PanicMessage, Is.EqualTo("Fatal local machine check: Data load in unrecoverable area of kernel"));
        var trace = s.M.TraceText();
        Assert.That(trace, Does.Contain("copy_cow_page_dax() {"));
        Assert.That(trace, Does.Contain("copy_page() {"));
        Assert.That(trace, Does.Not.Contain("copy_mc_"));
    }

    [TestCase("6.12", true)]
    [TestCase("6.11", false)]
    [TestCase("5.10", false)]
    public void PageCachePrivateWriteFault_OverPoison_CopyMcUserHighpageFrom612(string kernel, bool recovers)
    {
        var s = new DaxScenario(kernel, DaxMode.Never, huge: false, trace: true);
        var fd = s.CreateFile("F", 4096);
        var p = s.MapFile(fd, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 1UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(1)));
        var folio = ((DaxInode)s.Fs.Lookup("F")!).Mapping!.Find(0)!;
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.EqualTo(folio.Pfn), "the read fault maps the page-cache folio");
        Assert.That(s.M.InjectPoison(new PhysAddr((folio.Pfn << 12) + 200)), Is.Zero);

        var r = s.P.Store(p + 9UL, [1]);

        var trace = s.M.TraceText();
        if (recovers)
        {
            // do_cow_fault: copy_mc_user_highpage comes up short → VM_FAULT_HWPOISON (do_sigbus: the faulting address,
            // lsb PAGE_SHIFT), and memory_failure_queue hands the page-cache page to memory_failure.
            Assert.That(r.Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, p.Value + 9, 12, Forced: true)));
            Assert.That(s.M.State.Alive, Is.True);
            Assert.That(trace, Does.Contain("copy_mc_user_highpage() {"));
            Assert.That(s.M.State.Dmesg, Does.Contain($"MCE: Killing app:{s.P.Pid} due to hardware memory corruption fault at {p.Value + 9:x}"));
            // The file was written with pwrite and never synced: the folio is dirty (me_pagecache_dirty, MF17).
            Assert.That(s.M.State.Dmesg, Does.Contain($"Memory failure: 0x{folio.Pfn:x}: recovery action for dirty LRU page: Recovered"));
            Assert.That(s.M.Phys.Frame(folio.Pfn).IsHwPoison, Is.True);
        }
        else
        {
            // copy_user_highpage → copy_page: no exception-table entry.
            Assert.That(r.Signal, Is.Null);
            Assert.That(s.M.State.Alive, Is.False);
            Assert.That(s.M.State.PanicMessage, Is.EqualTo("Fatal local machine check: Data load in unrecoverable area of kernel"));
            Assert.That(trace, Does.Contain("copy_user_highpage() {"));
            Assert.That(trace, Does.Not.Contain("copy_mc_"));
        }
    }

    [TestCase("6.12")]
    [TestCase("6.11")]
    public void PageCachePrivateWriteFault_CopiesTheFolio_FileUnchanged(string kernel)
    {
        var s = new DaxScenario(kernel, DaxMode.Never, huge: false);
        var fd = s.CreateFile("F", 4096);
        var p = s.MapFile(fd, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE);
        Assert.That(s.P.Store(p + 9UL, [0x99]).Done, Is.EqualTo(1UL));
        var folio = ((DaxInode)s.Fs.Lookup("F")!).Mapping!.Find(0)!;
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Not.EqualTo(folio.Pfn), "an anonymous copy");
        Assert.That(s.UserBytes(p, 16), Is.EqualTo(DaxScenario.DataBytes(0, 9).Append((byte)0x99).Concat(DaxScenario.DataBytes(10, 6))));
        Assert.That(s.P.Pread64(fd, s.U, 16, 0), Is.EqualTo(16));
        Assert.That(s.UserBytes(s.U, 16), Is.EqualTo(DaxScenario.DataBytes(0, 16)), "the file is unchanged");
    }

    [Test]
    public void MapSync_DaxFile_WriteFaultCommitsMetadataBeforeMapping()
    {
        var s = new DaxScenario("6.12", huge: false);
        var fd = s.CreateFile("F", 0);
        Assert.That(s.P.Ftruncate(fd, 2 * 4096), Is.Zero);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        var ino = (DaxInode)s.Fs.Lookup("F")!;
        var p = s.MapFile(fd, 2 * 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED_VALIDATE | Mman.MAP_SYNC);
        var commits = ino.Commits;
        Assert.That(s.P.Store(p, [5]).Done, Is.EqualTo(1UL));
        Assert.That(ino.MetadataDirty, Is.False, "dax_finish_sync_fault ran fsync");
        Assert.That(ino.Commits, Is.EqualTo(commits + 1));

        // Without MAP_SYNC the allocation stays uncommitted until fsync.
        var q = s.MapFile(fd, 2 * 4096, Mman.PROT_READ | Mman.PROT_WRITE);
        Assert.That(s.P.Store(q + 4096UL, [6]).Done, Is.EqualTo(1UL));
        Assert.That(ino.MetadataDirty, Is.True);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        Assert.That(ino.MetadataDirty, Is.False);
    }

    [Test]
    public void MapSync_Refused_OnNonDaxMount_Eopnotsupp_AlsoWithPlainMapShared()
    {
        var s = new DaxScenario("6.12", DaxMode.Never);
        var fd = s.CreateFile("F", 4096);
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED_VALIDATE | Mman.MAP_SYNC, fd, 0), Is.EqualTo(-Errno.EOPNOTSUPP));
        // calc_vm_flag_bits sets VM_SYNC before MAP_SHARED drops the flag (ext4 on 6.1 and 6.12 under QEMU, MM14).
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_SYNC, fd, 0), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED_VALIDATE | 0x200000, fd, 0), Is.EqualTo(-Errno.EOPNOTSUPP)); // a bit outside LEGACY_MAP_MASK
    }

    [Test]
    public void Mmap_FileErrors()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", 4096);
        var ro = s.Open("F", Fcntl.O_RDONLY);
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, 77, 0), Is.EqualTo(-Errno.EBADF));
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED, ro, 0), Is.EqualTo(-Errno.EACCES));
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, ro, 0), Is.GreaterThan(0));
        var wo = s.Open("F", Fcntl.O_WRONLY);
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, wo, 0), Is.EqualTo(-Errno.EACCES));
        Assert.That(s.P.Mmap(0, 4096, Mman.PROT_READ, Mman.MAP_SHARED, fd, 100), Is.EqualTo(-Errno.EINVAL));
    }

    [Test]
    public void MmapBeyondEof_Sigbus_NonDax()
    {
        var s = new DaxScenario("6.12", DaxMode.Never);
        var fd = s.CreateFile("F", 100);
        var p = s.MapFile(fd, 2 * 4096);
        s.P.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 50UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(50)));
        Assert.That(s.P.LoadByte(p + 4096UL, out _).Signal, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_ADRERR, p.Value + 4096, 0, Forced: true)));
    }

    [Test]
    public void PmdFault_2MiBAlignedFileAndAddress_MapsAHugePage_UnalignedAddressFallsBack()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("H", 4L << 20);
        Assert.That(s.PhysOf("H", 0).Value % (2UL << 20), Is.Zero, "2 MiB-aligned allocation");
        var p = s.MapFile(fd, 2UL << 20, addr: 0x7f00_0000_0000UL);
        Assert.That(s.P.LoadByte(p + 12345UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(12345)));
        Assert.That(s.P.Mm.ShiftAt(p.Value), Is.EqualTo(21));
        Assert.That(s.P.Mm.ResidentPages, Is.GreaterThanOrEqualTo(512));
        var q = s.MapFile(fd, 2UL << 20, off: 4096, addr: 0x7e00_0000_0000UL);
        Assert.That(s.P.LoadByte(q, out b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(DaxScenario.Data(4096)));
        Assert.That(s.P.Mm.ShiftAt(q.Value), Is.EqualTo(12), "PMD colour mismatch: PTE fallback");
        var r = s.MapFile(fd, 2UL << 20, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_PRIVATE, addr: 0x7d00_0000_0000UL);
        Assert.That(s.P.Store(r + 8UL, [1]).Done, Is.EqualTo(1UL));
        Assert.That(s.P.Mm.ShiftAt(r.Value), Is.EqualTo(12), "private write: PTE CoW");
    }

    [Test]
    public void IocbNowait_RwsemHeld_EagainForReadAndWrite()
    {
        var s = new DaxScenario("6.12");
        var fd = s.CreateFile("F", 8192);
        var ino = (DaxInode)s.Fs.Lookup("F")!;
        var vec = s.U + 4096UL * 4;
        Assert.That(s.P.Store(vec, BitConverter.GetBytes(s.U.Value).Concat(BitConverter.GetBytes(100UL)).ToArray()).Done, Is.EqualTo(16UL));
        ino.Rwsem.HoldExclusive();
        Assert.That(s.P.Preadv2(fd, vec, 1, 0, Fcntl.RWF_NOWAIT), Is.EqualTo(-Errno.EAGAIN));
        Assert.That(s.P.Pwritev2(fd, vec, 1, 0, Fcntl.RWF_NOWAIT), Is.EqualTo(-Errno.EAGAIN));
        ino.Rwsem.UpWrite();
        ino.Rwsem.HoldShared();
        Assert.That(s.P.Preadv2(fd, vec, 1, 0, Fcntl.RWF_NOWAIT), Is.EqualTo(100), "readers share i_rwsem");
        Assert.That(s.P.Pwritev2(fd, vec, 1, 0, Fcntl.RWF_NOWAIT), Is.EqualTo(-Errno.EAGAIN), "a writer needs it exclusively");
        var other = s.M.Spawn("blocked");
        var ofd = s.Open("F", Fcntl.O_RDWR, other);
        Assert.That(other.Pwrite64(ofd, other.MapAnonymous(4096), 10, 0), Is.EqualTo(Machine.NoReturn), "a blocking writer would sleep forever");
        ino.Rwsem.UpRead();
        Assert.That(s.P.Pwritev2(fd, vec, 1, 9000, Fcntl.RWF_NOWAIT), Is.EqualTo(-Errno.EAGAIN), "IOMAP_NOWAIT will not allocate");
        Assert.That(s.P.Pwritev2(fd, vec, 1, 100, Fcntl.RWF_NOWAIT), Is.EqualTo(100), "an overwrite of allocated blocks does not block");
    }

    [TestCase(DaxMode.Always)]
    [TestCase(DaxMode.Never)]
    public void Fsync_Returns0_CommitsMetadata(DaxMode mode)
    {
        var s = new DaxScenario("6.12", mode);
        var fd = s.CreateFile("F", 5000);
        var ino = (DaxInode)s.Fs.Lookup("F")!;
        Assert.That(ino.MetadataDirty, Is.True);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        Assert.That(ino.MetadataDirty, Is.False);
        Assert.That(ino.Node.Size, Is.EqualTo(5000));
        Assert.That(s.P.Fsync(99), Is.EqualTo(-Errno.EBADF));
    }

    [Test]
    public void Directories_CreateLookupUnlink_Errnos()
    {
        var s = new DaxScenario("6.12");
        Assert.That(s.Fs.Mkdir("a"), Is.Zero);
        Assert.That(s.Fs.Mkdir("a"), Is.EqualTo(-Errno.EEXIST));
        Assert.That(s.Fs.Mkdir("x/y"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.Fs.Mkdir("a/b"), Is.Zero);
        var fd = s.CreateFile("a/b/f", 10);
        Assert.That(s.P.Open(s.Path("a/b/f/g"), Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOTDIR));
        Assert.That(s.P.Open(s.Path("a/nope"), Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.P.Open(s.Path("a/b/f"), Fcntl.O_RDWR | Fcntl.O_CREAT | Fcntl.O_EXCL), Is.EqualTo(-Errno.EEXIST));
        Assert.That(s.P.Open(s.Path("a"), Fcntl.O_RDWR), Is.EqualTo(-Errno.EISDIR));
        var dfd = (int)s.P.Open(s.Path("a"), Fcntl.O_RDONLY);
        Assert.That(s.P.Read(dfd, s.U, 10), Is.EqualTo(-Errno.EISDIR));
        Assert.That(s.Fs.Unlink("a/b"), Is.EqualTo(-Errno.EISDIR), "not empty");
        Assert.That(s.P.Pread64(fd, s.U, 10, 0), Is.EqualTo(10));
        Assert.That(s.Fs.Unlink("a/b/f"), Is.Zero);
        Assert.That(s.Fs.Unlink("a/b/f"), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.Fs.Unlink("a/b"), Is.EqualTo(-Errno.EISDIR), "unlink(2) of a directory");
        Assert.That(s.Fs.Rmdir("a/b"), Is.Zero);
    }

    [Test]
    public void UnlinkWhileOpen_DataReadableUntilLastClose_ThenBlocksFreed()
    {
        var s = new DaxScenario("6.12");
        var free0 = s.Fs.Volume.FreeBlocks;
        var fd = s.CreateFile("F", 3 * 4096);
        Assert.That(s.Fs.Volume.FreeBlocks, Is.EqualTo(free0 - 3));
        Assert.That(s.Fs.Unlink("F"), Is.Zero);
        Assert.That(s.P.Open(s.Path("F"), Fcntl.O_RDONLY), Is.EqualTo(-Errno.ENOENT));
        Assert.That(s.P.Pread64(fd, s.U, 100, 4096), Is.EqualTo(100));
        Assert.That(s.UserBytes(s.U, 100), Is.EqualTo(DaxScenario.DataBytes(4096, 100)));
        Assert.That(s.Fs.Volume.FreeBlocks, Is.EqualTo(free0 - 3));
        Assert.That(s.P.Close(fd), Is.Zero);
        Assert.That(s.Fs.Volume.FreeBlocks, Is.EqualTo(free0));
    }

    [Test]
    public void DaxMountWithoutDaxDevice_Einval()
    {
        var s = new DaxScenario("6.12");
        var dev = new KernelSim.Block.BlockDevice(s.M, "ram0", 2048, new Moq.Mock<KernelSim.Block.IBlockDeviceOps>().Object);
        Assert.That(DaxFs.Mount(s.M, dev, DaxFsVolume.Format(dev.SizeBytes), new DaxFsOptions { MountPoint = "/mnt/ram" }, out var fs), Is.EqualTo(-Errno.EINVAL));
        Assert.That(fs, Is.Null);
        Assert.That(s.M.State.Dmesg, Has.Some.Contains("DAX unsupported by block device"));
    }

    [Test]
    public void Enospc_WhenTheDeviceIsFull_WriteReturnsWhatFit()
    {
        var s = new DaxScenario("6.12", userPages: 16);
        var fd = s.CreateFile("F", 0);
        var blocks = s.Fs.Volume.FreeBlocks;
        Assert.That(s.P.Fallocate(fd, 0, 0, (blocks - 2) * 4096), Is.Zero);
        var g = s.CreateFile("G", 0);
        Assert.That(s.P.Pwrite64(g, s.U, 4 * 4096, 0), Is.EqualTo(2 * 4096));
        Assert.That(s.P.Pwrite64(g, s.U, 4096, 8192), Is.EqualTo(-Errno.ENOSPC));
    }

    /// <summary>
    /// A 1 MiB read repeated until the file's and the buffer's storage chunks moved into their storage groups
    /// (<see cref="PhysicalMemory.RehomeAfter"/>), where a run that crosses chunks is one host copy: the same bytes
    /// every time, the buffer around them untouched; then a poisoned line in the middle stops the read where a machine
    /// that never moved its storage stops it, with the same bytes copied and the same sector recorded.
    /// </summary>
    [Test]
    public void OneMiBRead_AfterTheStorageMovedToGroups_SameBytesAndTheSameShortReadAtPoison()
    {
        const int len = 1 << 20, at = 1234, from = 5000;
        var s = new DaxScenario("6.12", userPages: 260);
        var fd = s.CreateFile("F", len + 3 * 4096);
        var buf = s.U + (ulong)at;
        var expected = DaxScenario.DataBytes(from, len);
        for (var n = 0; n <= PhysicalMemory.RehomeAfter + 1; n++)
        {
            Assert.That(s.P.Pread64(fd, buf, len, from), Is.EqualTo(len));
            if (n % 16 != 1) continue;
            Assert.That(s.UserBytes(buf, len), Is.EqualTo(expected), $"read {n}");
            Assert.That(s.UserBytes(s.U, at), Is.EqualTo(DaxScenario.Filled(at)), "before the buffer");
            Assert.That(s.UserBytes(buf + (ulong)len, 260 * 4096 - at - len), Is.EqualTo(DaxScenario.Filled(260 * 4096 - at - len)), "after it");
        }

        var fresh = new DaxScenario("6.12", userPages: 260);
        var freshFd = fresh.CreateFile("F", len + 3 * 4096);
        const long poison = 600 * 1024 + 100;
        s.PoisonFile("F", poison);
        fresh.PoisonFile("F", poison);
        Assert.That(s.P.Fill(s.U, 260 * 4096, _ => DaxScenario.Fill).Done, Is.EqualTo(260 * 4096UL), "the buffer as the fresh machine's");
        var got = s.P.Pread64(fd, buf, len, from);
        Assert.That(got, Is.EqualTo(fresh.P.Pread64(freshFd, fresh.U + (ulong)at, len, from)));
        Assert.That(got, Is.EqualTo(poison / 64 * 64 - from), "up to the poisoned line");
        Assert.That(s.UserBytes(s.U, 260 * 4096), Is.EqualTo(fresh.UserBytes(fresh.U, 260 * 4096)));
        Assert.That(s.Pmem.Disk.BadblocksShow(), Is.EqualTo(fresh.Pmem.Disk.BadblocksShow()));
    }
}
