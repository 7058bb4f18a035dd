using System.Buffers.Binary;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// VFS steps around per-inode DAX (docs/kernel/fsdax.md DX1–DX9): statx(2) and fstat(2) with the fields decoded,
/// mkdir(2), the FS_IOC_FSGETXATTR / FS_IOC_FSSETXATTR and FIBMAP ioctls, sync(2), syncfs(2) and fdatasync(2). Each
/// call uses a page the step maps in the actor's address space for the struct the kernel reads or writes.
/// </summary>
internal static class VfsSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("statx", "statx(2) of a path, the result decoded (path, mask: STATX_BASIC_STATS|STATX_BTIME…, flags: AT_*)", "path", ParseStatx);
        r.Register("fstat", "fstat(2) of an open file, the result decoded (fd)", "fd", ParseFstat);
        r.Register("mkdir", "mkdir(2) (path, mode)", "path", ParseMkdir);
        r.Register("fsgetxattr", "ioctl(fd, FS_IOC_FSGETXATTR): fsx_xflags (fd)", "fd", ParseFsgetxattr);
        r.Register("fssetxattr", "ioctl(fd, FS_IOC_FSSETXATTR) with fsx_xflags (fd, xflags: FS_XFLAG_DAX or 0)", ParseFssetxattr);
        r.Register("fibmap", "ioctl(fd, FIBMAP): the device block of a file block (fd, block)", ParseFibmap);
        r.Register("sync", "sync(2): write back every filesystem (actor)", "actor", ParseSync);
        r.Register("syncfs", "syncfs(2) of the filesystem of an open file (fd)", "fd", c => FdCall(c, "syncfs", (p, f) => p.Syncfs(f)));
        r.Register("fdatasync", "fdatasync(2) (fd)", "fd", c => FdCall(c, "fdatasync", (p, f) => p.Fdatasync(f)));
    }

    private static int FdOf(ScenarioRun run, string actor, string fd) => run.Actor(actor).Fds.TryGetValue(fd, out var n) ? n : -1;

    private static UserPtr Page(Process p) => p.MapAnonymous(PageDefs.PAGE_SIZE);

    private static byte[] Read(Process p, UserPtr at, int n)
    {
        var b = new byte[n];
        p.Load(at, b);
        return b;
    }

    private static IScenarioStep FdCall(StepParseContext c, string name, Func<Process, int, long> call)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: {name}({fd})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            return f < 0 ? StepResult.Error($"{fd} is not open (its open step failed)") : run.Syscall(p, call(p, f));
        });
    }

    private static IScenarioStep ParseStatx(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = c.Args.Str("path")!;
        var mask = c.Args.Get("mask") is { } mn ? (uint)c.Flags(mn, typeof(Stat), $"{c.Args.What}.mask") : Stat.STATX_BASIC_STATS;
        var flags = c.Args.Get("flags") is { } fn ? (int)c.Flags(fn, typeof(Stat), $"{c.Args.What}.flags") : 0;
        c.Args.Done();
        return new CallStep(actor, $"{actor}: statx(AT_FDCWD, \"{path}\", 0x{flags:x}, 0x{mask:x})", (run, p) =>
        {
            var buf = Page(p);
            var r = p.Statx(Stat.AT_FDCWD, path, flags, mask, buf);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r < 0) return StepResult.Returned(r);
            var b = Read(p, buf, Stat.StatxSize);
            var attrs = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8));
            var text = $"= 0 (stx_mask 0x{BinaryPrimitives.ReadUInt32LittleEndian(b):x}, stx_attributes 0x{attrs:x}{DaxNote(run, attrs)}, " +
                       $"stx_attributes_mask 0x{BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(56)):x}, stx_mode 0{Convert.ToString(BinaryPrimitives.ReadUInt16LittleEndian(b.AsSpan(28)), 8)}, " +
                       $"stx_size {BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(40))}, stx_blocks {BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(48))})";
            return new StepResult(0, null, null, text);
        });
    }

    /// <summary>" [DAX]" when the release's STATX_ATTR_DAX bit is set (5.8/5.9: the same bit as STATX_ATTR_MOUNT_ROOT).</summary>
    private static string DaxNote(ScenarioRun run, ulong attrs)
    {
        var v = run.Machine.Profile.StatxAttrDaxValue;
        return v != 0 && (attrs & v) != 0 ? " [DAX]" : "";
    }

    private static IScenarioStep ParseFstat(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: fstat({fd})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            var buf = Page(p);
            var r = p.Fstat(f, buf);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r < 0) return StepResult.Returned(r);
            var b = Read(p, buf, Stat.StatSize);
            return new StepResult(0, null, null,
                $"= 0 (st_dev 0x{BinaryPrimitives.ReadUInt64LittleEndian(b):x}, st_ino {BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(8))}, st_mode 0{Convert.ToString(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24)), 8)}, " +
                $"st_size {BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(48))}, st_blksize {BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(56))}, st_blocks {BinaryPrimitives.ReadInt64LittleEndian(b.AsSpan(64))})");
        });
    }

    private static IScenarioStep ParseMkdir(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = c.Args.Str("path")!;
        var mode = c.Args.Long("mode") is { } m ? (int)m : 0x1ff;
        c.Args.Done();
        return new CallStep(actor, $"{actor}: mkdir(\"{path}\", 0{Convert.ToString(mode, 8)})", (run, p) => run.Syscall(p, p.Mkdir(path, mode)));
    }

    private static IScenarioStep ParseFsgetxattr(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: ioctl({fd}, FS_IOC_FSGETXATTR)", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            var buf = Page(p);
            var r = p.Ioctl(f, FsIoctl.FS_IOC_FSGETXATTR, buf.Value);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r < 0) return StepResult.Returned(r);
            var x = BinaryPrimitives.ReadUInt32LittleEndian(Read(p, buf, 4));
            return new StepResult(0, null, null, $"= 0 (fsx_xflags 0x{x:x}{((x & FsIoctl.FS_XFLAG_DAX) != 0 ? " FS_XFLAG_DAX" : "")})");
        });
    }

    private static IScenarioStep ParseFssetxattr(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var xflags = c.Args.Get("xflags") is { } xn ? (uint)c.Flags(xn, typeof(FsIoctl), $"{c.Args.What}.xflags") : 0;
        c.Args.Done();
        return new CallStep(actor, $"{actor}: ioctl({fd}, FS_IOC_FSSETXATTR, {{fsx_xflags = 0x{xflags:x}}})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            var buf = Page(p);
            var b = new byte[FsIoctl.FsxattrSize];
            BinaryPrimitives.WriteUInt32LittleEndian(b, xflags);
            p.Store(buf, b);
            return run.Syscall(p, p.Ioctl(f, FsIoctl.FS_IOC_FSSETXATTR, buf.Value));
        });
    }

    private static IScenarioStep ParseFibmap(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var block = (int)(c.Args.Long("block") ?? 0);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: ioctl({fd}, FIBMAP, &{block})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            var buf = Page(p);
            var b = new byte[4];
            BinaryPrimitives.WriteInt32LittleEndian(b, block);
            p.Store(buf, b);
            var r = p.Ioctl(f, FsIoctl.FIBMAP, buf.Value);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            var v = BinaryPrimitives.ReadInt32LittleEndian(Read(p, buf, 4));
            return new StepResult(r, null, null, $"= {Errno.Describe(r)} (block {v})");
        });
    }

    private static IScenarioStep ParseSync(StepParseContext c)
    {
        var actor = c.Actor()!;
        c.Args.Done();
        return new CallStep(actor, $"{actor}: sync()", (run, p) => run.Syscall(p, p.Sync()));
    }
}
