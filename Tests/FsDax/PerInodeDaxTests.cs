using KernelSim.Fs.Dax;
using KernelSim.Uapi;
using static KernelSim.Uapi.FsIoctl;
using static KernelSim.Uapi.Stat;

namespace KernelSim.Tests.FsDax;

/// <summary>
/// Per-inode DAX as xfstests generic/605 and the xfs/ext4 dax tests check it (docs/kernel/fsdax.md DX1–DX5): the
/// dax= mount options, FS_XFLAG_DAX inheritance on create, statx STATX_ATTR_DAX, and "the DAX state changes when the
/// inode is next loaded".
/// </summary>
public class PerInodeDaxTests
{
    private static (DaxScenario S, UserStructs U) Mount(string kernel, DaxMode mode)
    {
        var s = new DaxScenario(kernel, mode);
        return (s, new UserStructs(s.P));
    }

    private static bool StatxDax(DaxScenario s, UserStructs u, string name)
    {
        Assert.That(u.Statx(s.Path(name)), Is.Zero);
        return (u.StxAttributes & STATX_ATTR_DAX) != 0;
    }

    private static uint Xflags(DaxScenario s, UserStructs u, string name)
    {
        var fd = s.Open(name, Fcntl.O_RDONLY);
        var (r, x) = u.GetXflags(fd);
        Assert.That(r, Is.Zero);
        Assert.That(s.P.Close(fd), Is.Zero);
        return x;
    }

    [Test]
    public void DaxRst_ExampleA_ChattrOnADirectory_InheritedOnlyByWhatIsCreatedAfter()
    {
        var (s, u) = Mount("6.12", DaxMode.Inode);
        foreach (var d in new[] { "a", "a/b", "a/b/c" }) Assert.That(s.P.Mkdir(s.Path(d)), Is.Zero);
        var fa = s.Open("a", Fcntl.O_RDONLY);
        Assert.That(u.SetXflags(fa, FS_XFLAG_DAX), Is.Zero); // xfs_io -c 'chattr +x' a
        Assert.That(s.P.Mkdir(s.Path("a/b/c/d")), Is.Zero);
        Assert.That(s.P.Mkdir(s.Path("a/e")), Is.Zero);

        foreach (var d in new[] { "a", "a/e" }) Assert.That(Xflags(s, u, d), Is.EqualTo(FS_XFLAG_DAX), d);
        foreach (var d in new[] { "a/b", "a/b/c", "a/b/c/d" }) Assert.That(Xflags(s, u, d), Is.Zero, d);
        Assert.That(StatxDax(s, u, "a"), Is.False, "statx never shows S_DAX on a directory");
    }

    [Test]
    public void FileCreatedInADaxDirectory_IsDax_OthersUseThePageCache()
    {
        var (s, u) = Mount("6.12", DaxMode.Inode);
        Assert.That(s.P.Mkdir(s.Path("d")), Is.Zero);
        Assert.That(u.SetXflags(s.Open("d", Fcntl.O_RDONLY), FS_XFLAG_DAX), Is.Zero);
        s.CreateFile("d/f", 8192);
        s.CreateFile("g", 8192);

        Assert.That(StatxDax(s, u, "d/f"), Is.True);
        Assert.That(u.StxAttributesMask & STATX_ATTR_DAX, Is.EqualTo(STATX_ATTR_DAX), "5.13+: the mask says the bit is known");
        Assert.That(StatxDax(s, u, "g"), Is.False);
        Assert.That(u.StxAttributesMask & STATX_ATTR_DAX, Is.EqualTo(STATX_ATTR_DAX));
        Assert.That(((DaxInode)s.Fs.Lookup("d/f")!).Mapping, Is.Null, "DAX: no page cache");
        Assert.That(((DaxInode)s.Fs.Lookup("g")!).Mapping, Is.Not.Null);
        Assert.That(Xflags(s, u, "d/f"), Is.EqualTo(FS_XFLAG_DAX));
    }

    [Test]
    public void SetFlagOnAnOpenFile_EffectiveStateChangesOnlyAfterTheLastClose_DataKept()
    {
        var (s, u) = Mount("6.12", DaxMode.Inode);
        var fd = s.CreateFile("f", 8192); // page cache: the data is dirty in DRAM
        Assert.That(u.SetXflags(fd, FS_XFLAG_DAX), Is.Zero);

        Assert.That(Xflags(s, u, "f"), Is.EqualTo(FS_XFLAG_DAX), "the persistent flag is set at once");
        Assert.That(StatxDax(s, u, "f"), Is.False, "S_DAX still off: the inode is in core");
        Assert.That(((DaxInode)s.Fs.Lookup("f")!).DontCache, Is.True, "d_mark_dontcache");
        Assert.That(s.P.Close(fd), Is.Zero); // iput_final: written back and evicted

        Assert.That(StatxDax(s, u, "f"), Is.True, "reloaded with S_DAX");
        fd = s.Open("f", Fcntl.O_RDONLY);
        Assert.That(s.P.Pread64(fd, s.U, 8192, 0), Is.EqualTo(8192));
        Assert.That(s.UserBytes(s.U, 8192), Is.EqualTo(DaxScenario.DataBytes(0, 8192)), "the page cache was written back before eviction");
    }

    [Test]
    public void AMappedFile_KeepsItsStateUntilUnmappedAndClosedAgain()
    {
        var (s, u) = Mount("6.12", DaxMode.Inode);
        var fd = s.CreateFile("f", 8192);
        var p = s.MapFile(fd, 8192);
        Assert.That(u.SetXflags(fd, FS_XFLAG_DAX), Is.Zero);
        Assert.That(s.P.Close(fd), Is.Zero);
        Assert.That(StatxDax(s, u, "f"), Is.False, "the mapping holds the inode");
        Assert.That(s.P.Munmap(p.Value, 8192), Is.Zero);
        Assert.That(s.P.Close(s.Open("f", Fcntl.O_RDONLY)), Is.Zero);
        Assert.That(StatxDax(s, u, "f"), Is.True);
    }

    [TestCase(DaxMode.Always, true)]
    [TestCase(DaxMode.Never, false)]
    public void DaxAlwaysAndNever_IgnoreTheFlagForTheEffectiveState_ButStoreIt(DaxMode mode, bool dax)
    {
        var (s, u) = Mount("6.12", mode);
        var fd = s.CreateFile("f", 100);
        Assert.That(u.SetXflags(fd, dax ? 0 : FS_XFLAG_DAX), Is.Zero);
        Assert.That(((DaxInode)s.Fs.Lookup("f")!).DontCache, Is.False, "no d_mark_dontcache outside dax=inode");
        Assert.That(s.P.Close(fd), Is.Zero);
        Assert.That(StatxDax(s, u, "f"), Is.EqualTo(dax));
        Assert.That(Xflags(s, u, "f"), Is.EqualTo(dax ? 0 : FS_XFLAG_DAX));
    }

    [Test]
    public void Remount_DaxInodeAfterAlways_FollowsTheStoredFlags()
    {
        var (s, u) = Mount("6.12", DaxMode.Always);
        var fd = s.CreateFile("plain", 100);
        Assert.That(s.P.Close(fd), Is.Zero);
        fd = s.CreateFile("marked", 100);
        Assert.That(u.SetXflags(fd, FS_XFLAG_DAX), Is.Zero);
        Assert.That(s.P.Close(fd), Is.Zero);
        Assert.That(s.Fs.Unmount(), Is.Zero);
        Assert.That(DaxFs.Mount(s.M, s.Pmem.Disk, s.Fs.Volume, new DaxFsOptions { Dax = DaxMode.Inode }, out var fs2), Is.Zero);
        Assert.That(u.Statx(fs2!.PathOf("plain")), Is.Zero);
        Assert.That(u.StxAttributes & STATX_ATTR_DAX, Is.Zero);
        Assert.That(u.Statx(fs2.PathOf("marked")), Is.Zero);
        Assert.That(u.StxAttributes & STATX_ATTR_DAX, Is.EqualTo(STATX_ATTR_DAX));
    }

    [Test]
    public void BeforeLinux58_DaxInodeIsAnUnknownOption_AndTheFlagIsEopnotsupp()
    {
        var (s, u) = Mount("5.4", DaxMode.Always);
        var fd = s.CreateFile("f", 100);
        Assert.That(u.SetXflags(fd, FS_XFLAG_DAX), Is.EqualTo(-Errno.EOPNOTSUPP));
        Assert.That(StatxDax(s, u, "f"), Is.False, "no STATX_ATTR_DAX before 5.8, even on dax=always");
        Assert.That(u.StxAttributesMask, Is.Zero);
        Assert.That(s.Fs.Unmount(), Is.Zero);
        Assert.That(DaxFs.Mount(s.M, s.Pmem.Disk, s.Fs.Volume, new DaxFsOptions { Dax = DaxMode.Inode }, out _), Is.EqualTo(-Errno.EINVAL));
        Assert.That(s.M.State.Dmesg, Has.Some.Contains("Unrecognized mount option \"dax=inode\""));
    }

    [TestCase("5.8", 0x2000UL, 0x2000UL)]
    [TestCase("5.9", 0x2000UL, 0x2000UL)]
    [TestCase("5.10", 0x200000UL, 0x2000UL)]
    [TestCase("5.12", 0x200000UL, 0x2000UL)]
    [TestCase("5.13", 0x200000UL, 0x203000UL)]
    [TestCase("6.12", 0x200000UL, 0x203000UL)]
    public void StatxAttrDax_ValueAndMask_PerRelease(string kernel, ulong attr, ulong mask)
    {
        var (s, u) = Mount(kernel, DaxMode.Always);
        s.CreateFile("f", 100);
        Assert.That(u.Statx(s.Path("f")), Is.Zero);
        Assert.That(u.StxAttributes, Is.EqualTo(attr), "STATX_ATTR_DAX (5.8/5.9: the same bit as STATX_ATTR_MOUNT_ROOT)");
        Assert.That(u.StxAttributesMask, Is.EqualTo(mask), "MOUNT_ROOT always; AUTOMOUNT | DAX from 5.13");
    }
}
