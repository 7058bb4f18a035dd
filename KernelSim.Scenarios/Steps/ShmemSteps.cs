using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Fs;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// tmpfs and memfd steps (docs/tmpfs.md): mount a tmpfs, memfd_create(2), fcntl(2) seals, unlink(2) on any mount
/// (FUSE_UNLINK on virtio-fs), and memory_failure on a page of a tmpfs file.
/// </summary>
internal static class ShmemSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("mount-tmpfs", "mount -t tmpfs at a path (mount)", "mount", ParseMount);
        r.Register("memfd-create", "memfd_create(2) and name the descriptor (name, flags: MFD_ALLOW_SEALING|…, as)", ParseMemfd);
        r.Register("fcntl", "fcntl(2) (fd, cmd: F_ADD_SEALS | F_GET_SEALS | F_GETFL, arg: F_SEAL_WRITE|…)", ParseFcntl);
        r.Register("unlink", "unlink(2) (path)", "path", ParseUnlink);
        r.Register("memory-failure-file", "memory_failure on the frame holding a page of a tmpfs file (path, page)", ParseMemoryFailure);
    }

    private static IScenarioStep ParseMount(StepParseContext c)
    {
        var mount = c.Args.RequireStr("mount");
        if (!mount.StartsWith('/')) throw c.Args.Error(c.Args.Node, $"{c.Args.What}.mount: '{mount}' is not an absolute path");
        c.Args.Done();
        return new MachineStep($"mount -t tmpfs tmpfs {mount}", run =>
        {
            if (run.Machine.Vfs.Mounts.Any(m => m.MountPoint == mount.TrimEnd('/'))) return StepResult.Error($"{mount} is already a mount point");
            TmpFs.Mount(run.Machine, new TmpFsOptions { MountPoint = mount });
            return StepResult.Returned(0);
        });
    }

    private static IScenarioStep ParseMemfd(StepParseContext c)
    {
        var actor = c.Actor()!;
        var name = c.Args.Get("name") is { } n ? YamlValues.Scalar(c.File, n, $"{c.Args.What}.name") : "";
        var flagsNode = c.Args.Get("flags");
        var flags = flagsNode == null ? 0 : (uint)c.Flags(flagsNode, typeof(Memfd), $"{c.Args.What}.flags");
        var asNode = c.Args.Require("as");
        var fd = YamlValues.Scalar(c.File, asNode, $"{c.Args.What}.as");
        if (!AddrExpr.IsName(fd)) throw c.Args.Error(asNode, $"{c.Args.What}.as: '{fd}' is not a name");
        c.Args.Done();
        c.Symbols.Fds[actor].Add(fd);
        return new CallStep(actor, $"{actor}: {fd} = memfd_create(\"{name}\", 0x{flags:x})", (run, p) =>
        {
            var r = p.MemfdCreate(name, flags);
            if (r >= 0)
            {
                run.Actor(actor).Fds[fd] = (int)r;
                run.Actor(actor).FdPaths[fd] = "/" + Memfd.MFD_NAME_PREFIX + name;
            }
            return run.Syscall(p, r);
        });
    }

    private static IScenarioStep ParseFcntl(StepParseContext c)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var cmdNode = c.Args.Require("cmd");
        var cmd = (int)c.Constant(cmdNode, typeof(Memfd), $"{c.Args.What}.cmd");
        var argNode = c.Args.Get("arg");
        var arg = argNode == null ? 0 : (ulong)c.Flags(argNode, typeof(Memfd), $"{c.Args.What}.arg");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: fcntl({fd}, {YamlValues.Scalar(c.File, cmdNode, "cmd")}, 0x{arg:x})", (run, p) =>
        {
            var f = run.Actor(actor).Fds.TryGetValue(fd, out var n) ? n : -1;
            return f < 0 ? StepResult.Error($"{fd} is not open (its open step failed)") : run.Syscall(p, p.DoFcntl(f, cmd, arg));
        });
    }

    private static IScenarioStep ParseUnlink(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = c.Args.RequireStr("path");
        c.Args.Done();
        return new CallStep(actor, $"{actor}: unlink({path})", (run, p) => run.Syscall(p, p.Unlink(path)));
    }

    private static IScenarioStep ParseMemoryFailure(StepParseContext c)
    {
        var path = c.Args.RequireStr("path");
        var page = (ulong)(c.Args.Long("page") ?? 0);
        c.Args.Done();
        return new MachineStep($"memory_failure on page {page} of {path}", run =>
        {
            if (run.Machine.Vfs.Resolve(path, out var fs, out var rest) < 0 || fs is not TmpFs t || t.Lookup(rest) is not ShmemInode inode)
                return StepResult.Error($"{path}: no tmpfs file there");
            if (inode.Mapping!.Find(page) is not { } folio) return StepResult.Error($"{path}: page {page} is not in the page cache");
            var r = run.Machine.Run(() => run.Machine.MemoryFailure.Run(folio.Pfn, MfFlags.None));
            return r.Returned ? StepResult.Returned(r.Value) : StepResult.NoReturn(r.Outcome!);
        });
    }
}
