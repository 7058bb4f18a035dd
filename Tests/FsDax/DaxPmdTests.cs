using KernelSim.Fs.Dax;
using KernelSim.Mm;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>
/// ndctl's test/dax-pmd.c and test/dax.sh in miniature (docs/kernel/fsdax.md DX10–DX13): a 2 MiB-aligned mapping of a
/// fallocated file, the fs_dax tracepoints counted, the huge zero page over unwritten extents and the write fault that
/// replaces it with a 2 MiB block mapping, and dax_writeback_mapping_range.
/// </summary>
public class DaxPmdTests
{
    private const ulong Mib2 = PageDefs.PMD_SIZE;
    private const ulong At = 0x6000_0000_0000UL; // MAP_FIXED, 2 MiB aligned

    private static int Count(DaxScenario s, string ev, string? result = null) =>
        s.M.Tracer.Records.Count(r => r.Kind == TraceKind.Event && r.Name == ev && (result == null || r.Text!.EndsWith(" " + result, StringComparison.Ordinal)));

    private static (DaxScenario S, int Fd, UserPtr P) FallocatedMapping(string kernel, ulong len = 4 * Mib2)
    {
        var s = new DaxScenario(kernel, trace: true);
        var fd = s.Open("F", Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(s.P.Fallocate(fd, 0, 0, (long)len), Is.Zero);
        var p = s.MapFile(fd, len, Mman.PROT_READ | Mman.PROT_WRITE, Mman.MAP_SHARED | Mman.MAP_FIXED, addr: At);
        Assert.That(p.Value, Is.EqualTo(At));
        s.M.Tracer.Clear();
        return (s, fd, p);
    }

    [Test]
    public void ReadFaultsOverUnwrittenExtents_MapTheHugeZeroPage_OneNopagePmdFaultPer2MiB()
    {
        var (s, _, p) = FallocatedMapping("6.12");
        for (var i = 0UL; i < 4; i++)
        {
            Assert.That(s.P.LoadByte(p + i * Mib2 + 4096, out var b).Signal, Is.Null);
            Assert.That(b, Is.Zero);
        }
        Assert.That(Count(s, "dax_pmd_fault_done", "NOPAGE"), Is.EqualTo(4));
        Assert.That(Count(s, "dax_pmd_load_hole"), Is.EqualTo(4));
        Assert.That(Count(s, "dax_pte_fault"), Is.Zero);
        var zero = s.Fs.FsDax.HugeZeroPfn();
        Assert.That(zero % 512, Is.Zero, "2 MiB aligned");
        Assert.That(s.P.Mm.ShiftAt(p.Value + 3 * Mib2), Is.EqualTo(21));
        Assert.That(s.P.Mm.PfnAt(p.Value + Mib2 + 8192), Is.EqualTo(zero + 2), "every 2 MiB maps the same huge zero page");
        Assert.That(s.P.Mm.IsWritable(p.Value), Is.False);
        Assert.That(s.M.TraceText(), Does.Contain(
            $"/* dax_pmd_fault_done: dev 259:0 ino 0x2 shared  address 0x{At + 4096:x} vm_start 0x{At:x} vm_end 0x{At + 4 * Mib2:x} pgoff 0x1 max_pgoff 0x800 NOPAGE */"));
        Assert.That(s.M.TraceText(), Does.Contain(
            $"/* dax_pmd_load_hole: dev 259:0 ino 0x2 shared address 0x{At + 4096:x} zero_folio pfn:0x{zero:x} radix_entry 0x{(((zero << 4) | 6) << 1) | 1:x} */"));
        var ino = (DaxInode)s.Fs.Lookup("F")!;
        Assert.That(ino.Entries[512], Is.EqualTo(new DaxEntry(zero, Pmd: true, Zero: true, Dirty: false)));
        Assert.That(ino.DaxEntries, Is.Empty, "no file data is mapped");
    }

    [Test]
    public void WriteAfterTheZeroPmd_Replaces2MiBWithBlocks_OtherRangesKeepTheZeroPage()
    {
        var (s, _, p) = FallocatedMapping("6.12");
        Assert.That(s.P.LoadByte(p + 10UL, out _).Signal, Is.Null);
        Assert.That(s.P.LoadByte(p + Mib2, out _).Signal, Is.Null);
        var zero = s.Fs.FsDax.HugeZeroPfn();

        Assert.That(s.P.Store(p + 100UL, [0x5a]).Signal, Is.Null);

        Assert.That(Count(s, "dax_pmd_fault_done", "NOPAGE"), Is.EqualTo(3), "read, read, then the write fault");
        Assert.That(Count(s, "dax_pmd_fault_done", "FALLBACK"), Is.Zero);
        var pfn = s.P.Mm.PfnAt(p.Value)!.Value;
        Assert.That(pfn, Is.Not.EqualTo(zero));
        Assert.That(pfn % 512, Is.Zero);
        Assert.That(pfn, Is.EqualTo(s.PhysOf("F", 0).Pfn), "the file's own 2 MiB block run");
        Assert.That(s.P.Mm.ShiftAt(p.Value), Is.EqualTo(21));
        Assert.That(s.P.Mm.IsWritable(p.Value + 8192), Is.True);
        Assert.That(s.P.Mm.PfnAt(p.Value + Mib2), Is.EqualTo(zero), "the next 2 MiB still maps the zero page");
        Assert.That(s.P.LoadByte(p + 100UL, out var b).Signal, Is.Null);
        Assert.That(b, Is.EqualTo(0x5a));
        Assert.That(s.M.Phys.Frame(zero).Flags & PageFlags.PG_reserved, Is.EqualTo(PageFlags.PG_reserved));
        Assert.That(s.Fs.Fiemap("F")[0], Is.EqualTo((0L, s.Fs.DeviceOffsetOf("F", 0), (long)Mib2, false)), "the first 2 MiB converted to written");
    }

    [Test]
    public void APteEntryInTheRange_MakesPmdFaultsFallBack_GrabMappingEntry()
    {
        var (s, fd, p) = FallocatedMapping("6.12");
        // A second, misaligned mapping of the same file (pgoff 1 at a 2 MiB-aligned address: PMD colour differs).
        var q = s.MapFile(fd, Mib2, Mman.PROT_READ, Mman.MAP_SHARED | Mman.MAP_FIXED, off: 4096, addr: At + 8 * Mib2);
        Assert.That(s.P.LoadByte(q + 0UL, out _).Signal, Is.Null);
        Assert.That(Count(s, "dax_pmd_fault_done", "FALLBACK"), Is.EqualTo(1), "colour mismatch");
        Assert.That(Count(s, "dax_load_hole"), Is.EqualTo(1), "a 4 KiB zero entry for file page 1");

        Assert.That(s.P.LoadByte(p + 0UL, out _).Signal, Is.Null);
        Assert.That(Count(s, "dax_pmd_fault_done", "FALLBACK"), Is.EqualTo(2), "the file's 4 KiB entry blocks the PMD");
        Assert.That(s.P.Mm.ShiftAt(p.Value), Is.EqualTo(12));
        Assert.That(s.P.LoadByte(p + 8192UL, out _).Signal, Is.Null);
        Assert.That(Count(s, "dax_pmd_fault"), Is.EqualTo(2), "a page table now exists there: no PMD attempt");
        Assert.That(s.P.LoadByte(p + Mib2, out _).Signal, Is.Null);
        Assert.That(Count(s, "dax_pmd_fault_done", "NOPAGE"), Is.EqualTo(1), "the next 2 MiB is unaffected");
    }

    [TestCase("5.12", 1)]
    [TestCase("5.13", 0)]
    public void DaxPmdInsertMapping_TracedUpTo512(string kernel, int expected)
    {
        var (s, _, p) = FallocatedMapping(kernel);
        Assert.That(s.P.Store(p + 0UL, [1]).Signal, Is.Null);
        Assert.That(Count(s, "dax_pmd_fault_done", "NOPAGE"), Is.EqualTo(1));
        Assert.That(Count(s, "dax_pmd_insert_mapping"), Is.EqualTo(expected));
    }

    [Test]
    public void Fsync_WritesBackDirtyDaxEntries_WriteProtects_NextStoreRedirties()
    {
        var (s, fd, p) = FallocatedMapping("6.12");
        Assert.That(s.P.Store(p + 0UL, [1]).Signal, Is.Null);
        Assert.That(s.P.Store(p + 3 * Mib2, [2]).Signal, Is.Null);
        var ino = (DaxInode)s.Fs.Lookup("F")!;
        Assert.That(ino.Entries.Values.Count(e => e.Dirty), Is.EqualTo(2));

        Assert.That(s.P.Fdatasync(fd), Is.Zero);

        Assert.That(Count(s, "dax_writeback_one"), Is.EqualTo(2));
        Assert.That(s.M.TraceText(), Does.Contain("/* dax_writeback_one: dev 259:0 ino 0x2 pgoff 0x600 pglen 0x200 */"));
        Assert.That(s.M.TraceText(), Does.Contain("/* dax_writeback_range: dev 259:0 ino 0x2 pgoff 0x0-0x7ffffffffffff */"));
        Assert.That(ino.Entries.Values.Count(e => e.Dirty), Is.Zero);
        Assert.That(s.P.Mm.IsWritable(p.Value), Is.False, "dax_entry_mkclean");
        Assert.That(s.P.Mm.PfnAt(p.Value), Is.Not.Null, "still mapped, read-only");

        s.M.Tracer.Clear();
        Assert.That(s.P.Store(p + 5UL, [3]).Signal, Is.Null);
        Assert.That(Count(s, "dax_pmd_fault_done", "NOPAGE"), Is.EqualTo(1), "the store faults again (wp_huge_pmd)");
        Assert.That(ino.Entries[0].Dirty, Is.True);
        Assert.That(s.P.Fsync(fd), Is.Zero);
        Assert.That(Count(s, "dax_writeback_one"), Is.EqualTo(1));
        Assert.That(s.P.Fsync(fd), Is.Zero);
        Assert.That(Count(s, "dax_writeback_one"), Is.EqualTo(1), "nothing dirty the second time");
    }

    [Test]
    public void PteFaults_TracedWithResult()
    {
        var s = new DaxScenario("6.12", trace: true, huge: false);
        var fd = s.CreateFile("F", 8192);
        var p = s.MapFile(fd, 3 * 4096);
        s.M.Tracer.Clear();
        Assert.That(s.P.LoadByte(p + 0UL, out _).Signal, Is.Null);
        s.P.SetSignalHandler(Sig.SIGBUS, KernelSim.Kernel.SignalDisposition.Catch);
        Assert.That(s.P.LoadByte(p + 8192UL, out _).Signal!.Value.Signo, Is.EqualTo(Sig.SIGBUS), "past EOF");
        Assert.That(Count(s, "dax_pte_fault"), Is.EqualTo(2));
        Assert.That(Count(s, "dax_pte_fault_done", "NOPAGE"), Is.EqualTo(1));
        Assert.That(Count(s, "dax_pte_fault_done", "SIGBUS"), Is.EqualTo(1));
        Assert.That(s.M.TraceText(), Does.Contain($"/* dax_pte_fault_done: dev 259:0 ino 0x2 shared  address 0x{p.Value + 8192:x} pgoff 0x2 SIGBUS */"));
    }
}
