using KernelSim.Arch.X86;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Composition;

/// <summary>
/// The copy-routine seam (<see cref="ICopyRoutines"/>) replaced through MachineBuilder.Services: the fast paths of the
/// 4 KiB reads (the UBUF <c>_copy_mc_to_iter</c>, filemap_read's page-run copy, <c>read_pmem</c>'s direct call) are taken
/// only with the machine's own <see cref="CopyRoutines"/>, so a replacement sees every copy the kernel function makes.
/// </summary>
public class CopyRoutinesDoubleTests
{
    private sealed class RecordingCopy(ICopyRoutines inner) : DelegatingCopyRoutines(inner)
    {
        public readonly List<string> Calls = [];
        public override ulong CopyMcToUser(UserPtr dst, KernelPtr src, ulong len) { Calls.Add($"copy_mc_to_user {len}"); return base.CopyMcToUser(dst, src, len); }
        public override ulong CopyMcToKernel(KernelPtr dst, KernelPtr src, ulong len) { Calls.Add($"copy_mc_to_kernel {len}"); return base.CopyMcToKernel(dst, src, len); }
        public override ulong RawCopyToUser(UserPtr to, KernelPtr from, ulong n) { Calls.Add($"raw_copy_to_user {n}"); return base.RawCopyToUser(to, from, n); }
    }

    private static (MachineBuilder, Func<RecordingCopy>) Builder()
    {
        RecordingCopy? copy = null;
        var b = new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString);
        b.Services.AddSingleton<ICopyRoutines>(sp => copy = new RecordingCopy(ActivatorUtilities.CreateInstance<CopyRoutines>(sp)));
        return (b, () => copy!);
    }

    /// <summary>Writes 4 KiB of a pattern to <paramref name="path"/>, then reads it back with pread64 while recording the copies.</summary>
    private static List<string> PreadCalls(Machine m, RecordingCopy copy, string path, int flags)
    {
        var p = m.Spawn("t");
        var buf = p.MapAnonymous(4096);
        Assert.That(p.Fill(buf, 4096, i => (byte)(i * 13 + 5)).Done, Is.EqualTo(4096UL));
        var fd = (int)p.Open(path, flags);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        Assert.That(p.Pwrite64(fd, buf, 4096, 0), Is.EqualTo(4096));
        Assert.That(p.Fill(buf, 4096, _ => 0).Done, Is.EqualTo(4096UL));
        copy.Calls.Clear();
        Assert.That(p.Pread64(fd, buf, 4096, 0), Is.EqualTo(4096));
        var back = new byte[4096];
        Assert.That(p.Load(buf, back).Done, Is.EqualTo(4096UL));
        Assert.That(back, Is.EqualTo(Enumerable.Range(0, 4096).Select(i => (byte)(i * 13 + 5)).ToArray()));
        return copy.Calls;
    }

    [Test]
    public void DaxPread_WithAReplacedCopyRoutine_CopiesThroughItsCopyMcToUser()
    {
        var (b, copy) = Builder();
        var m = b.AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs().Build();
        var fs = DaxFs.FormatAndMount(m, m.Pmem().Disk, new DaxFsOptions { Dax = DaxMode.Always });
        Assert.That(PreadCalls(m, copy(), fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT), Is.EqualTo(new[] { "copy_mc_to_user 4096" }));
    }

    [Test]
    public void RamfsPread_WithAReplacedCopyRoutine_CopiesThroughItsRawCopyToUser()
    {
        var (b, copy) = Builder();
        var m = b.AddRamFs().Build();
        Assert.That(PreadCalls(m, copy(), "/mnt/ramfs/F", Fcntl.O_RDWR | Fcntl.O_CREAT), Is.EqualTo(new[] { "raw_copy_to_user 4096" }));
    }

    [Test]
    public void PmemODirectPread_WithAReplacedCopyRoutine_ReadPmemCopiesThroughItsCopyMcToKernel()
    {
        var (b, copy) = Builder();
        var m = b.AddPmem(new PmemNamespaceSpec(64UL << 20)).Build();
        Assert.That(PreadCalls(m, copy(), "/dev/pmem0", Fcntl.O_RDWR | Fcntl.O_DIRECT), Is.EqualTo(new[] { "copy_mc_to_kernel 4096" }));
    }
}
