using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Drivers.Pmem;
using KernelSim.Drivers.Virtiofs.Guest;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// File steps beyond read/write: fallocate(2), ftruncate(2), fsync(2), mmap(2) of an open file (daxfs, virtio-fs),
/// and latent poison in "page N, line L of file F" on a daxfs mount (located through the extent map, like filefrag).
/// </summary>
internal static class FsSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("fallocate", "fallocate(2) (fd, mode: FALLOC_FL_ZERO_RANGE|FALLOC_FL_KEEP_SIZE…, offset, len)", ParseFallocate);
        r.Register("ftruncate", "ftruncate(2) (fd, size)", ParseFtruncate);
        r.Register("fsync", "fsync(2) (fd)", "fd", ParseFsync);
        r.Register("mmap-file", "mmap(2) of an open file, named like a mapping (fd, name, len, prot, flags, offset)", ParseMmapFile);
        r.Register("poison-file", "latent poison (EINJ) in a line of a daxfs file (path, offset | page + line, known)", ParsePoisonFile);
    }

    /// <summary>A signed number that may also be written as a size ("2M", "4K").</summary>
    public static long? Num(StepParseContext c, string key)
    {
        if (c.Args.Get(key) is not { } n) return null;
        var s = YamlValues.Scalar(c.File, n, $"{c.Args.What}.{key}");
        if (YamlValues.TryParseSize(s, out var u) && u <= long.MaxValue) return (long)u;
        return YamlValues.Long(c.File, n, $"{c.Args.What}.{key}");
    }

    private static int FdOf(ScenarioRun run, string actor, string fd) => run.Actor(actor).Fds.TryGetValue(fd, out var n) ? n : -1;

    private static IScenarioStep ParseFallocate(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var modeNode = c.Args.Get("mode");
        var mode = modeNode == null ? 0 : (int)c.Flags(modeNode, typeof(Fcntl), $"{c.Args.What}.mode");
        var modeText = modeNode == null ? "0" : string.Join("|", YamlValues.List(modeNode).Select(n => YamlValues.Scalar(c.File, n, "mode")));
        var offset = Num(c, "offset") ?? 0;
        var len = Num(c, "len") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: missing required key 'len'");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: fallocate({fd}, {modeText}, {offset}, {len})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            return f < 0 ? StepResult.Error($"{fd} is not open (its open step failed)") : run.Syscall(p, p.Fallocate(f, mode, offset, len));
        });
    }

    private static IScenarioStep ParseFtruncate(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var size = Num(c, "size") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: missing required key 'size'");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: ftruncate({fd}, {size})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            foreach (var share in run.Shares.Values)
                if (p.FileAt(f) is FuseFile && share.Fs != null && run.Actor(actor).FdPaths[fd].StartsWith(share.Options.MountPoint + "/", StringComparison.Ordinal))
                    return run.Syscall(p, share.Ftruncate(p, f, size));
            return run.Syscall(p, p.Ftruncate(f, size));
        });
    }

    private static IScenarioStep ParseFsync(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        c.Args.Done();
        return new CallStep(actor, $"{actor}: fsync({fd})", (run, p) =>
        {
            var f = FdOf(run, actor, fd);
            return f < 0 ? StepResult.Error($"{fd} is not open (its open step failed)") : run.Syscall(p, p.Fsync(f));
        });
    }

    private static IScenarioStep ParseMmapFile(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var nameNode = c.Args.Require("name");
        var name = YamlValues.Scalar(c.File, nameNode, $"{c.Args.What}.name");
        if (!AddrExpr.IsName(name)) throw c.Args.Error(nameNode, $"{c.Args.What}.name: '{name}' is not a name");
        if (c.Symbols.Mappings[actor].Contains(name) || c.Symbols.KernelBuffers.Contains(name)) throw c.Args.Error(nameNode, $"{c.Args.What}.name: '{name}' is already a buffer name");
        var len = c.Size("len");
        if (len == 0 || len > 1UL << 32) throw c.Args.Error(c.Args.Get("len")!, $"{c.Args.What}.len: 1 .. 4G");
        var protNode = c.Args.Get("prot");
        var prot = protNode == null ? Mman.PROT_READ | Mman.PROT_WRITE : MmSteps.Prot(c.Args, protNode, $"{c.Args.What}.prot");
        var flagsNode = c.Args.Get("flags");
        var flags = Mman.MAP_SHARED;
        var flagsText = "MAP_SHARED";
        if (flagsNode != null)
        {
            var s = YamlValues.Scalar(c.File, flagsNode, $"{c.Args.What}.flags");
            (flags, flagsText) = s switch
            {
                "shared" => (Mman.MAP_SHARED, "MAP_SHARED"),
                "private" => (Mman.MAP_PRIVATE, "MAP_PRIVATE"),
                _ => ((int)c.Flags(flagsNode, typeof(Mman), $"{c.Args.What}.flags"), s),
            };
        }
        var offset = Num(c, "offset") ?? 0;
        c.Args.Done();
        c.Symbols.Mappings[actor].Add(name);
        return new CallStep(actor, $"{actor}: {name} = mmap({len}, {MmSteps.ProtName(prot)}, {flagsText}, {fd}, {offset})", (run, p) =>
        {
            var a = run.Actor(actor);
            var f = FdOf(run, actor, fd);
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            long r = -Errno.ENODEV;
            var done = false;
            if (p.FileAt(f) is FuseFile)
            {
                foreach (var share in run.Shares.Values)
                {
                    if (share.Fs == null || !a.FdPaths[fd].StartsWith(share.Options.MountPoint + "/", StringComparison.Ordinal)) continue;
                    r = share.Mmap(p, len, prot, flags, f, offset);
                    done = true;
                    break;
                }
            }
            if (!done) r = p.Mmap(0, len, prot, flags, f, offset);
            if (r == Machine.NoReturn) return StepResult.NoReturn(run.OutcomeOf(p));
            if (r >= 0) a.Mappings[name] = new UserBuffer(name, new UserPtr((ulong)r), len, FillPattern.None);
            return StepResult.Address(r);
        });
    }

    private static IScenarioStep ParsePoisonFile(StepParseContext c)
    {
        var pathNode = c.Args.Require("path");
        var path = YamlValues.Scalar(c.File, pathNode, $"{c.Args.What}.path");
        var mount = c.Symbols.DaxMounts.Where(mp => path.StartsWith(mp + "/", StringComparison.Ordinal)).OrderByDescending(mp => mp.Length).FirstOrDefault()
            ?? throw c.Args.Error(pathNode, $"{c.Args.What}.path: '{path}' is not on a daxfs mount (machine.filesystems: {string.Join(", ", c.Symbols.DaxMounts.DefaultIfEmpty("none"))})");
        var rest = path[(mount.Length + 1)..];
        long offset;
        if (c.Args.Get("offset") is { } on)
        {
            offset = Num(c, "offset")!.Value;
            c.Args.Know("page");
            c.Args.Know("line");
        }
        else
        {
            var page = c.Args.Long("page") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: give offset, or page (and line)");
            var line = c.Args.Long("line") ?? 0;
            if (line is < 0 or >= 64) throw c.Args.Error(c.Args.Get("line")!, $"{c.Args.What}.line: 0 .. 63 (64-byte lines of a 4 KiB page)");
            offset = page * 4096 + line * 64;
        }
        if (offset < 0) throw c.Args.Error(c.Args.Node, $"{c.Args.What}: a negative file offset");
        var known = false;
        if (c.Args.Get("known") is { } kn) known = YamlValues.Bool(c.File, kn, $"{c.Args.What}.known");
        c.Args.Done();
        var line0 = offset & ~63L;
        return new MachineStep($"poison {path} byte {offset} (line {line0}..{line0 + 63}){(known ? ", known: sector in badblocks" : "")}", run =>
        {
            if (!run.DaxMounts.TryGetValue(mount, out var fs)) return StepResult.Error($"{mount}: the daxfs mount failed at setup");
            var dev = fs.DeviceOffsetOf(rest, offset);
            if (dev < 0) return StepResult.Error($"{path}: byte {offset} is a hole or the file does not exist (write it first)");
            if (fs.Bdev == null || Nvdimm.Find(run.Machine, fs.Bdev.Name) is not { } pmem) return StepResult.Error($"{mount}: not on a pmem disk");
            var pa = pmem.DataPhys((ulong)dev);
            var r = run.Machine.InjectPoison(new PhysAddr(pa));
            var sector = dev >> 9;
            var text = $"= {r} (/dev/{fs.Bdev.Name} byte {dev} = 0x{dev:x}, sector {sector}, pa 0x{pa:x}, line 0x{pa & ~63UL:x})";
            if (known && r == 0)
            {
                var b = fs.Bdev.BadblocksStore($"{sector} 1");
                text += $"; badblocks store \"{sector} 1\" = {b}";
                if (b < 0) r = (int)b;
            }
            return new StepResult(r, null, null, text);
        });
    }
}
