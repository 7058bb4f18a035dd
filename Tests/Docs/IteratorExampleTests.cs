using KernelSim.Kernel;
using KernelSim.Lib;
using KernelSim.Mm;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Docs;

/// <summary>The example shown in docs/iterators.md (the page quotes this file verbatim).</summary>
public class IteratorExampleTests
{
    [Test]
    public void FolioQueue_CopyIn_ExtractToScatterlist_CopyOut()
    {
        var m = new MachineBuilder().WithKernel("6.12").Build();
        var sg = m.Services.GetRequiredService<ScatterlistOps>();

        // A folio_queue of three order-0 folios (one segment holds 31).
        var fq = new FolioQueue();
        for (var k = 0; k < 3; k++) fq.Append((ulong)m.Phys.AllocPage());

        // copy_to_iter: 0x2000 bytes of a kernel buffer into the queue from offset 0x100 of folio 0.
        var src = m.Kmalloc(0x2000)!.Value;
        m.Phys.PokeBytes(m.KernelMap.Pa(src)!.Value, Enumerable.Range(0, 0x2000).Select(i => (byte)(i % 251)).ToArray());
        Assert.That(m.IovIter.IovIterFolioQueue(false, fq, 0, 0x100, 0x2000, out var dst), Is.Zero);
        Assert.That(m.IovIter.CopyToIter(src, 0x2000, dst), Is.EqualTo(0x2000UL));
        Assert.That((dst.FolioqSlot, dst.IovOffset, dst.Count), Is.EqualTo((2, 0x100UL, 0UL)));

        // extract_iter_to_sg over the same bytes: one entry per folio, nothing pinned.
        Assert.That(m.IovIter.IovIterFolioQueue(true, fq, 0, 0x100, 0x2000, out var srcIter), Is.Zero);
        var table = new SgTable();
        Assert.That(sg.SgAllocTable(table, 4), Is.Zero);
        table.Nents = 0;
        Assert.That(sg.ExtractIterToSg(srcIter, 0x2000, table, 4), Is.EqualTo(0x2000L));
        Assert.That(table.Sgl[..3].ToArray().Select(e => (e.Offset, e.Length)), Is.EqualTo(new[] { (0x100u, 0xf00u), (0u, 0x1000u), (0u, 0x100u) }));
        Assert.That(m.IovIter.ExtractWillPin(srcIter), Is.False);

        // sg_copy_to_buffer reads the bytes back through the list.
        table.MarkEnd(2);
        var back = m.Kmalloc(0x2000)!.Value;
        Assert.That(sg.SgCopyToBuffer(table, table.Nents, back, 0x2000), Is.EqualTo(0x2000UL));
        var a = new byte[0x2000];
        var b = new byte[0x2000];
        m.Phys.PeekBytes(m.KernelMap.Pa(src)!.Value, a);
        m.Phys.PeekBytes(m.KernelMap.Pa(back)!.Value, b);
        Assert.That(b, Is.EqualTo(a));
    }
}
