using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Shmem;

/// <summary>A booted machine with a tmpfs on /mnt/tmpfs, one process and a 4-page user buffer.</summary>
internal sealed class TmpFsScenario
{
    public TmpFsScenario(string kernel)
    {
        M = new MachineBuilder().WithKernel(kernel).AddTmpFs().Build();
        Fs = (TmpFs)M.Vfs.Mounts.Single(f => f is TmpFs);
        P = M.Spawn("shm");
        U = P.MapAnonymous(4 * PageDefs.PAGE_SIZE);
    }

    public Machine M { get; }
    public TmpFs Fs { get; }
    public Process P { get; }
    public UserPtr U { get; }

    public static byte[] Bytes(int len, byte seed) => Enumerable.Range(0, len).Select(i => (byte)(seed + i * 13)).ToArray();

    /// <summary>Create "f" with <paramref name="data"/> through write(2); the fd stays open O_RDWR.</summary>
    public int CreateWritten(byte[] data, string name = "f")
    {
        var fd = (int)P.Open(Fs.PathOf(name), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        var buf = P.MapAnonymous(PageDefs.PageAlign((ulong)data.Length));
        Assert.That(P.Store(buf, data).Done, Is.EqualTo((ulong)data.Length));
        Assert.That(P.Pwrite64(fd, buf, (ulong)data.Length, 0), Is.EqualTo(data.Length));
        return fd;
    }

    /// <summary>The frame holding page <paramref name="index"/> of "f".</summary>
    public ulong PfnOf(ulong index, string name = "f") => Fs.Files[name].Mapping!.Find(index)!.Pfn;

    /// <summary>memory_failure(pfn, 0) on page <paramref name="index"/> of "f" (as the hardware's report of an uncorrectable error would).</summary>
    public int Poison(ulong index, string name = "f") => M.Run(() => M.MemoryFailure.Run(PfnOf(index, name), MfFlags.None)).Value;
}
