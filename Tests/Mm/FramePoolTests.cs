using System.Security.Cryptography;
using System.Text;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// <see cref="FramePool"/> and <see cref="Machine.Dispose"/>: a released memory's storage arrays serve the next memory of
/// the pool, which reads exactly what a memory with fresh arrays reads; a released memory or machine throws instead of
/// reading recycled bytes; arrays a machine image shares never enter the pool.
/// </summary>
public class FramePoolTests
{
    private const ulong PmemBase = 1UL << 30;
    private const int Chunk = PhysicalMemory.ChunkPages * 4096;

    private static PhysicalMemory Memory(FramePool? pool)
    {
        var phys = new PhysicalMemory();
        phys.Register(new PhysAddr(0), 1UL << 20, MemoryKind.Dram, "dram");
        phys.Register(new PhysAddr(PmemBase), 1UL << 20, MemoryKind.Pmem, "pmem");
        if (pool != null) Assert.That(phys.UsePool(pool), Is.True);
        return phys;
    }

    private static byte[] Read(PhysicalMemory phys, ulong pa, int len)
    {
        var b = new byte[len];
        phys.PeekBytes(new PhysAddr(pa), b);
        return b;
    }

    /// <summary>Fill every byte of the first three chunks (and a small one in the fourth) with 0xAB, then release.</summary>
    private static void DirtyAndRelease(PhysicalMemory phys)
    {
        var junk = new byte[3 * Chunk];
        junk.AsSpan().Fill(0xAB);
        phys.PokeBytes(new PhysAddr(0), junk);
        phys.PokeBytes(new PhysAddr(3 * (ulong)Chunk + 4096), junk.AsSpan(0, 4096)); // a chunk that stays small (3 pages)
        phys.Release();
    }

    /// <summary>A sparse pattern of writes: single bytes, a partial page, a page, a run across pages, a small chunk.</summary>
    private static void Writes(PhysicalMemory phys)
    {
        phys.PokeBytes(new PhysAddr(7), [1]);
        phys.PokeBytes(new PhysAddr(5 * 4096 + 100), [2, 3, 4]);
        var page = new byte[4096];
        for (var i = 0; i < page.Length; i++) page[i] = (byte)(i * 13 + 5);
        phys.PokeBytes(new PhysAddr((ulong)Chunk + 2 * 4096), page);
        phys.PokeBytes(new PhysAddr(2 * (ulong)Chunk + 4000), page.AsSpan(0, 300));
        phys.PokeBytes(new PhysAddr(3 * (ulong)Chunk + 4096 + 9), [9]);
        var zero = phys.AllocPage(); // a page of the first chunk, zeroed by the allocator
        Assert.That(zero, Is.EqualTo(0));
    }

    [Test]
    public void AMemoryOnReusedArrays_ReadsWhatAMemoryOnFreshArraysReads()
    {
        var pool = new FramePool();
        DirtyAndRelease(Memory(pool));
        Assert.That(pool.Bytes, Is.EqualTo(3L * Chunk + 4 * PhysicalMemory.SmallBytes),
            "three chunks, the small arrays they outgrew (kept until the release) and the fourth chunk's small one went back");

        var reused = Memory(pool);
        var fresh = Memory(null);
        Writes(reused);
        Writes(fresh);
        // Chunk 0 took a small array, then (page 5) a 64 KiB one; chunks 1 to 3 took a small one each.
        Assert.That(pool.Reused, Is.EqualTo(5));
        var expected = Read(fresh, 0, 4 * Chunk);
        Assert.That(expected[7], Is.Zero, "AllocPage handed out and cleared page 0");
        Assert.That(expected.Count(b => b != 0), Is.EqualTo(3 + (4096 - 16) + (300 - 2) + 1), "the writes' non-zero bytes (the pattern is 0 once in 256)");
        Assert.That(Read(reused, 0, 4 * Chunk), Is.EqualTo(expected), "no byte of the released memory shows through");
    }

    [Test]
    public void AReleasedMemory_ThrowsOnEveryByteAccess_EvenWhereNothingWasStored()
    {
        var pool = new FramePool();
        var phys = Memory(pool);
        phys.PokeBytes(new PhysAddr(4096), [1, 2, 3]);
        phys.Release();
        Assert.That(() => Read(phys, 4096, 3), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => Read(phys, 8 * (ulong)Chunk, 1), Throws.TypeOf<ObjectDisposedException>(), "a chunk never stored either");
        Assert.That(() => phys.PokeBytes(new PhysAddr(4096), [4]), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(phys.UsePool(new FramePool()), Is.False, "a released memory takes no pool");
        phys.Release(); // idempotent
        Assert.That(pool.Bytes, Is.EqualTo(PhysicalMemory.SmallBytes));
    }

    [Test]
    public void UsePool_AfterSomethingWasStored_IsRefused()
    {
        var phys = Memory(null);
        phys.PokeBytes(new PhysAddr(4096), [1]);
        Assert.That(phys.UsePool(new FramePool()), Is.False, "its chunks were not the pool's");
    }

    [Test]
    public void SharedImagePages_NeverEnterThePool_AndStayReadableByTheOtherMemories()
    {
        var block = new PhysAddr(PmemBase + 4096);
        var page = new byte[4096];
        page.AsSpan().Fill(0x5A);
        var pool = new FramePool();
        var a = Memory(pool);
        var shared = a.PokeBytesShared(block, page, null);
        var b = Memory(pool);
        Assert.That(b.PokeBytesShared(block, page, shared), Is.SameAs(shared));
        a.Release();
        Assert.That(pool.Bytes, Is.Zero, "a's only chunk is the image's shared array");

        // c takes arrays from the pool and writes over everything it can; b still reads the shared bytes.
        b.PokeBytes(new PhysAddr(PmemBase + 2 * 4096), [7]); // b's own (small) copy: the chunk is unshared on b's first write
        b.Release();
        Assert.That(pool.Bytes, Is.EqualTo(PhysicalMemory.SmallBytes), "b's own copy went back, the shared array did not");
        var c = Memory(pool);
        var junk = new byte[Chunk];
        junk.AsSpan().Fill(0xEE);
        c.PokeBytes(new PhysAddr(PmemBase), junk);
        c.PokeBytes(new PhysAddr(PmemBase + (ulong)Chunk), junk);
        var d = Memory(pool);
        Assert.That(d.PokeBytesShared(block, page, shared), Is.SameAs(shared));
        Assert.That(Read(d, block.Value, 4096), Is.EqualTo(page), "the shared array was never handed to c");
        Assert.That(Read(d, PmemBase, 4096), Is.All.Zero);
    }

    [Test]
    public void ThePool_KeepsAtMostMaxBytes()
    {
        var pool = new FramePool(maxBytes: 2L * Chunk);
        DirtyAndRelease(Memory(pool));
        Assert.That(pool.Bytes, Is.EqualTo(2L * Chunk), "the third chunk and the small array were left to the GC");
    }

    private static MachineBuilder Builder() => new MachineBuilder().WithKernel("6.12").WithTrace(true)
        .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs();

    /// <summary>mkfs + mount dax=always, 64 KiB written, a poisoned line, an 8 KiB pread; what it returned, dmesg, media and trace.</summary>
    private static string Experiment(Machine m)
    {
        var pmem = m.Pmem();
        var fs = DaxFs.FormatAndMount(m, pmem.Disk, new DaxFsOptions { Dax = DaxMode.Always });
        var p = m.Spawn("app");
        const int len = 64 * 1024;
        var buf = p.MapAnonymous(len);
        var pattern = new byte[len];
        for (var i = 0; i < len; i++) pattern[i] = (byte)(i * 7 + 3);
        Assert.That(p.Store(buf, pattern).Done, Is.EqualTo((ulong)len));
        var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Pwrite64(fd, buf, len, 0), Is.EqualTo(len));
        Assert.That(m.InjectPoison(new PhysAddr(pmem.DataPhys((ulong)fs.DeviceOffsetOf("F", 4160)))), Is.Zero);
        var read = p.Pread64(fd, buf, 8192, 0);
        var back = new byte[len];
        p.Load(buf, back);
        var o = new StringBuilder($"pread {read}\n");
        o.Append("buffer: ").Append(Convert.ToHexString(SHA256.HashData(back))).Append('\n');
        o.Append("dmesg:\n").AppendJoin('\n', m.State.Dmesg).Append('\n');
        o.Append("frames: ").AppendJoin(' ', m.Phys.FramesInOrder().Select(f => $"{f.Pfn:x}:{f.Flags}")).Append('\n');
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var page = new byte[PageDefs.PAGE_SIZE];
        foreach (var r in m.Phys.Ranges)
        {
            for (var a = r.Start.Value; a < r.End.Value; a += PageDefs.PAGE_SIZE)
            {
                if (m.Phys.Peek(a >> PageDefs.PAGE_SHIFT) == null) continue;
                m.Phys.PeekBytes(new PhysAddr(a), page);
                sha.AppendData(BitConverter.GetBytes(a));
                sha.AppendData(page);
            }
        }
        o.Append("media: ").Append(Convert.ToHexString(sha.GetHashAndReset())).Append('\n');
        return o.Append("trace:\n").Append(m.TraceText()).ToString();
    }

    /// <summary>Every page of DRAM's first 2 MiB and of the pmem region's first 2 MiB written with 0xAB.</summary>
    private static void Scribble(Machine m)
    {
        var junk = new byte[2 << 20];
        junk.AsSpan().Fill(0xAB);
        m.Phys.PokeBytes(new PhysAddr(m.Options.DramBase), junk);
        m.Phys.PokeBytes(new PhysAddr(m.Pmem().DataPhys(0)), junk);
    }

    [Test]
    public void MachinesOfOnePool_BuiltOrBootedFromAnImage_AreByteForByteMachinesWithoutOne()
    {
        var expected = Experiment(Builder().Build());
        Assert.That(expected, Does.StartWith("pread 4160\n"), "the read stops at the poisoned line");
        var pool = new FramePool(maxBytes: 16L << 20);
        using (var dirty = Builder().WithFramePool(pool).Build()) Scribble(dirty);
        Assert.That(pool.Bytes, Is.GreaterThanOrEqualTo(4L << 20), "the scribbled machine's storage went back");

        using (var built = Builder().WithFramePool(pool).Build()) Assert.That(Experiment(built), Is.EqualTo(expected), "built with the pool");
        var reused = pool.Reused;
        Assert.That(reused, Is.GreaterThan(0));
        var image = Builder().Prepare();
        for (var i = 0; i < 3; i++)
        {
            using (var dirty = image.Boot(pool)) Scribble(dirty);
            using var m = image.Boot(pool);
            Assert.That(Experiment(m), Is.EqualTo(expected), $"machine {i} of the image, on reused storage");
        }
        Assert.That(pool.Reused, Is.GreaterThan(reused));
    }

    [Test]
    public void ADisposedMachine_ThrowsObjectDisposed_OnSystemCallsRunAndMemoryAccess()
    {
        var pool = new FramePool();
        var m = Builder().WithFramePool(pool).Build();
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(4096);
        Assert.That(p.Store(buf, [1, 2, 3]).Done, Is.EqualTo(3UL));
        m.Dispose();
        Assert.That(pool.Bytes, Is.GreaterThan(0));
        Assert.That(() => p.Load(buf, new byte[3]), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => p.Close(99), Throws.TypeOf<ObjectDisposedException>(), "a system call that touches no memory too");
        Assert.That(() => m.Run(() => 0), Throws.TypeOf<ObjectDisposedException>());
        Assert.That(() => m.Phys.PeekBytes(new PhysAddr(m.Options.DramBase), new byte[1]), Throws.TypeOf<ObjectDisposedException>());
        m.Dispose(); // idempotent
    }

    [Test]
    public void ADisposedMachineWithoutAPool_AlsoThrows()
    {
        var m = new MachineBuilder().Build();
        var p = m.Spawn("app");
        m.Dispose();
        Assert.That(() => p.Close(99), Throws.TypeOf<ObjectDisposedException>());
    }
}
