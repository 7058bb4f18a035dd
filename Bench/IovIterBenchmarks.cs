using BenchmarkDotNet.Attributes;
using KernelSim.Lib;
using KernelSim.Mm;

namespace KernelSim.Bench;

/// <summary>
/// Fault-free copy_to_iter / copy_from_iter (lib/iov_iter.c) over each iterator type, against a plain span
/// copy of the same bytes. IOVEC, KVEC and BVEC use 4 equal segments over one contiguous buffer; UBUF one.
/// Each invocation builds a fresh iterator (the copy advances it), which is part of the measured time.
/// </summary>
[MemoryDiagnoser]
public class IovIterBenchmarks
{
    private const int Segs = 4;

    [Params(4096, 1048576)]
    public int Size;

    private SpanCopyBaseline _baseline = null!;
    private BenchMachine _bm = null!;
    private IovIterOps _iov = null!;
    private KernelPtr _kbuf;          // the kernel side of every copy
    private UserPtr _ubuf;            // user memory behind UBUF / IOVEC
    private KernelPtr _kother;        // kernel memory behind KVEC
    private ulong _bvecPfn;           // pages behind BVEC
    private Iovec[] _iovecs = [];
    private Kvec[] _kvecs = [];
    private BioVec[] _bvecs = [];

    [GlobalSetup]
    public void Setup()
    {
        _baseline = new SpanCopyBaseline(Size);
        _bm = new BenchMachine();
        _iov = _bm.Machine.IovIter;
        _kbuf = _bm.KernelBuffer(Size, 1);
        _ubuf = _bm.UserBuffer(Size, 2);
        _kother = _bm.KernelBuffer(Size, 3);
        var bvecBuf = _bm.KernelBuffer(Size, 4);
        _bvecPfn = _bm.Machine.KernelMap.Pa(bvecBuf)!.Value.Pfn;
        var seg = (ulong)Size / Segs;
        _iovecs = new Iovec[Segs];
        _kvecs = new Kvec[Segs];
        _bvecs = new BioVec[Segs];
        for (var k = 0; k < Segs; k++)
        {
            _iovecs[k] = new Iovec(_ubuf + (ulong)k * seg, seg);
            _kvecs[k] = new Kvec(_kother + (ulong)k * seg, seg);
            _bvecs[k] = new BioVec(_bvecPfn, (uint)((ulong)k * seg), (uint)seg);
        }
        Check(ToIterUbuf(), "copy_to_iter UBUF");
        Check(ToIterIovec(), "copy_to_iter IOVEC");
        Check(ToIterKvec(), "copy_to_iter KVEC");
        Check(ToIterBvec(), "copy_to_iter BVEC");
        Check(FromIterUbuf(), "copy_from_iter UBUF");
        Check(FromIterIovec(), "copy_from_iter IOVEC");
        Check(FromIterKvec(), "copy_from_iter KVEC");
        Check(FromIterBvec(), "copy_from_iter BVEC");
    }

    private void Check(ulong copied, string what) => BenchMachine.Expect((ulong)Size - copied, what);

    /// <summary>The host baseline: Span&lt;byte&gt;.CopyTo of the same size between page-aligned buffers (<see cref="SpanCopyBaseline"/>).</summary>
    [Benchmark(Baseline = true)]
    public int SpanCopy() => _baseline.Copy();

    [Benchmark]
    public ulong ToIterUbuf() => _iov.CopyToIter(_kbuf, (ulong)Size, IovIter.Ubuf(false, _ubuf, (ulong)Size));

    [Benchmark]
    public ulong ToIterIovec() => _iov.CopyToIter(_kbuf, (ulong)Size, IovIter.Iovec(false, _iovecs, (ulong)Size));

    [Benchmark]
    public ulong ToIterKvec() => _iov.CopyToIter(_kbuf, (ulong)Size, IovIter.Kvec(false, _kvecs, (ulong)Size));

    [Benchmark]
    public ulong ToIterBvec() => _iov.CopyToIter(_kbuf, (ulong)Size, IovIter.Bvec(false, _bvecs, (ulong)Size));

    [Benchmark]
    public ulong FromIterUbuf() => _iov.CopyFromIter(_kbuf, (ulong)Size, IovIter.Ubuf(true, _ubuf, (ulong)Size));

    [Benchmark]
    public ulong FromIterIovec() => _iov.CopyFromIter(_kbuf, (ulong)Size, IovIter.Iovec(true, _iovecs, (ulong)Size));

    [Benchmark]
    public ulong FromIterKvec() => _iov.CopyFromIter(_kbuf, (ulong)Size, IovIter.Kvec(true, _kvecs, (ulong)Size));

    [Benchmark]
    public ulong FromIterBvec() => _iov.CopyFromIter(_kbuf, (ulong)Size, IovIter.Bvec(true, _bvecs, (ulong)Size));
}
