using System.Buffers.Binary;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.FsDax;

/// <summary>What a test program does around statx(2) and the fsxattr ioctls: a buffer in the process, the call, the fields.</summary>
internal sealed class UserStructs(Process p)
{
    private readonly UserPtr _buf = p.MapAnonymous(PageDefs.PAGE_SIZE);

    public UserPtr Buf => _buf;

    /// <summary>Fill the buffer with 0xAA so the test sees every byte the kernel wrote.</summary>
    public void Scribble() => Assert.That(p.Fill(_buf, PageDefs.PAGE_SIZE, _ => 0xAA).Done, Is.EqualTo(PageDefs.PAGE_SIZE));

    public byte[] Bytes(int n)
    {
        var b = new byte[n];
        Assert.That(p.Load(_buf, b).Signal, Is.Null);
        return b;
    }

    public long Statx(string path, uint mask = Stat.STATX_BASIC_STATS, int flags = 0, int dirfd = Stat.AT_FDCWD)
    {
        Scribble();
        return p.Statx(dirfd, path, flags, mask, _buf);
    }

    public uint U32(int off) => BinaryPrimitives.ReadUInt32LittleEndian(Bytes(off + 4).AsSpan(off));

    public ulong U64(int off) => BinaryPrimitives.ReadUInt64LittleEndian(Bytes(off + 8).AsSpan(off));

    public uint StxMask => U32(0);
    public ulong StxAttributes => U64(8);
    public ulong StxAttributesMask => U64(56);

    /// <summary>FS_IOC_FSGETXATTR: the call's result and fsx_xflags.</summary>
    public (long Ret, uint Xflags) GetXflags(int fd)
    {
        Scribble();
        var r = p.Ioctl(fd, FsIoctl.FS_IOC_FSGETXATTR, _buf.Value);
        return (r, r == 0 ? U32(0) : 0);
    }

    /// <summary>FS_IOC_FSSETXATTR with <paramref name="xflags"/> and the other fields zero.</summary>
    public long SetXflags(int fd, uint xflags)
    {
        var b = new byte[FsIoctl.FsxattrSize];
        BinaryPrimitives.WriteUInt32LittleEndian(b, xflags);
        Assert.That(p.Store(_buf, b).Signal, Is.Null);
        return p.Ioctl(fd, FsIoctl.FS_IOC_FSSETXATTR, _buf.Value);
    }

    /// <summary>An int argument in the buffer (FIBMAP, FIGETBSZ, FIONREAD, GETFLAGS): the call's result and the int after it.</summary>
    public (long Ret, int Value) IntIoctl(int fd, uint cmd, int input = 0)
    {
        var b = new byte[4];
        BinaryPrimitives.WriteInt32LittleEndian(b, input);
        Assert.That(p.Store(_buf, b).Signal, Is.Null);
        var r = p.Ioctl(fd, cmd, _buf.Value);
        return (r, (int)U32(0));
    }
}
