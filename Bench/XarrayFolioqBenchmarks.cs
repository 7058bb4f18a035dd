using BenchmarkDotNet.Attributes;
using KernelSim.Fs;
using KernelSim.Lib;
using KernelSim.Mm;

namespace KernelSim.Bench;

/// <summary>
/// Fault-free copy_to_iter / copy_from_iter (lib/iov_iter.c) over ITER_XARRAY (a page cache of order-0 folios)
/// and ITER_FOLIOQ (a folio_queue chain of 31-slot segments), against a plain span copy of the same bytes. Each
/// invocation builds a fresh iterator (the copy advances it), which is part of the measured time.
/// </summary>
[MemoryDiagnoser]
public class XarrayFolioqBenchmarks
{
    [Params(4096, 1048576)]
    public int Size;

    private SpanCopyBaseline _baseline = null!;
    private IovIterOps _iov = null!;
    private KernelPtr _kbuf;
    private AddressSpace _mapping = null!;
    private FolioQueue _folioq = null!;

    [GlobalSetup]
    public void Setup()
    {
        _baseline = new SpanCopyBaseline(Size);
        var bm = new BenchMachine();
        var m = bm.Machine;
        _iov = m.IovIter;
        _kbuf = bm.KernelBuffer(Size, 1);
        var pages = Size / 4096;
        _mapping = new AddressSpace(m.Phys, new SimpleWriteAops());
        for (var k = 0; k < pages; k++) _mapping.GrabFolio((ulong)k);
        _folioq = new FolioQueue();
        var fq = _folioq;
        for (var k = 0; k < pages; k++)
        {
            if (fq.Full) fq = fq.AddSegment();
            fq.Append((ulong)m.Phys.AllocPage());
        }
        Check(ToIterXarray(), "copy_to_iter XARRAY");
        Check(FromIterXarray(), "copy_from_iter XARRAY");
        Check(ToIterFolioq(), "copy_to_iter FOLIOQ");
        Check(FromIterFolioq(), "copy_from_iter FOLIOQ");
    }

    private void Check(ulong copied, string what) => BenchMachine.Expect((ulong)Size - copied, what);

    private IovIter Xarray(bool source)
    {
        _iov.IovIterXarray(source, _mapping, 0, (ulong)Size, out var i);
        return i;
    }

    private IovIter Folioq(bool source)
    {
        _iov.IovIterFolioQueue(source, _folioq, 0, 0, (ulong)Size, out var i);
        return i;
    }

    /// <summary>The host baseline: Span&lt;byte&gt;.CopyTo of the same size between page-aligned buffers (<see cref="SpanCopyBaseline"/>).</summary>
    [Benchmark(Baseline = true)]
    public int SpanCopy() => _baseline.Copy();

    [Benchmark]
    public ulong ToIterXarray() => _iov.CopyToIter(_kbuf, (ulong)Size, Xarray(false));

    [Benchmark]
    public ulong FromIterXarray() => _iov.CopyFromIter(_kbuf, (ulong)Size, Xarray(true));

    [Benchmark]
    public ulong ToIterFolioq() => _iov.CopyToIter(_kbuf, (ulong)Size, Folioq(false));

    [Benchmark]
    public ulong FromIterFolioq() => _iov.CopyFromIter(_kbuf, (ulong)Size, Folioq(true));
}
