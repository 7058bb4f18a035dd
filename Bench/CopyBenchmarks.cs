using BenchmarkDotNet.Attributes;
using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Bench;

/// <summary>
/// Fault-free copies through the simulated CPU (probe + move, page by page) against a plain span copy of the
/// same number of bytes. The Ratio column is simulator time / span-copy time.
/// </summary>
[MemoryDiagnoser]
public class CopyBenchmarks
{
    [Params(4096, 1048576)]
    public int Size;

    private SpanCopyBaseline _baseline = null!;
    private BenchMachine _bm = null!;
    private CopyRoutines _copy = null!;
    private KernelPtr _ksrc, _kdst;
    private UserPtr _usrc, _udst;
    private Func<ulong> _runBody = null!;

    [GlobalSetup]
    public void Setup()
    {
        _baseline = new SpanCopyBaseline(Size);
        _bm = new BenchMachine();
        _copy = (CopyRoutines)_bm.Machine.Copy;
        _ksrc = _bm.KernelBuffer(Size, 1);
        _kdst = _bm.KernelBuffer(Size, 2);
        _usrc = _bm.UserBuffer(Size, 3);
        _udst = _bm.UserBuffer(Size, 4);
        _runBody = () => _copy.CopyMcToKernel(_kdst, _ksrc, (ulong)Size);
        BenchMachine.Expect(CopyMcToKernel(), "copy_mc_to_kernel");
        BenchMachine.Expect(CopyMcToUser(), "copy_mc_to_user");
        BenchMachine.Expect(RawCopyToUser(), "raw_copy_to_user");
        BenchMachine.Expect(RawCopyFromUser(), "raw_copy_from_user");
        BenchMachine.Expect(CopyMcToKernel_MachineRun(), "copy_mc_to_kernel via Machine.Run");
    }

    /// <summary>The host baseline: Span&lt;byte&gt;.CopyTo of the same size between page-aligned buffers (<see cref="SpanCopyBaseline"/>).</summary>
    [Benchmark(Baseline = true)]
    public int SpanCopy() => _baseline.Copy();

    /// <summary>copy_mc_to_kernel, kernel → kernel (direct map), ERMS: copy_mc_enhanced_fast_string.</summary>
    [Benchmark]
    public ulong CopyMcToKernel() => _copy.CopyMcToKernel(_kdst, _ksrc, (ulong)Size);

    /// <summary>copy_mc_to_user, kernel → pre-faulted user buffer.</summary>
    [Benchmark]
    public ulong CopyMcToUser() => _copy.CopyMcToUser(_udst, _ksrc, (ulong)Size);

    /// <summary>raw_copy_to_user (copy_user_generic under STAC), kernel → user.</summary>
    [Benchmark]
    public ulong RawCopyToUser() => _copy.RawCopyToUser(_udst, _ksrc, (ulong)Size);

    /// <summary>raw_copy_from_user, user → kernel.</summary>
    [Benchmark]
    public ulong RawCopyFromUser() => _copy.RawCopyFromUser(_kdst, _usrc, (ulong)Size);

    /// <summary>copy_mc_to_kernel wrapped in Machine.Run (outcome handling, syscall-exit work): the facade's cost.</summary>
    [Benchmark]
    public ulong CopyMcToKernel_MachineRun()
    {
        var r = _bm.Machine.Run(_bm.Process, "bench", _runBody);
        _bm.Machine.Scheduler.Current = _bm.Process;
        return r.Value;
    }
}
