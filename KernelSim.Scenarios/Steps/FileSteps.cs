using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Yaml;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Steps;

/// <summary>
/// File steps on the machine's mounts (ramfs today): create-file (setup), open, close, and read/write system
/// calls whose user buffers are described by layout: one buffer (buf, len) or iovec segments (iov: [{at, len}]).
/// </summary>
internal static class FileSteps
{
    public static void Register(StepRegistry r)
    {
        r.Register("create-file", "create a file whose pages are cached and uptodate (path, size, fill)", ParseCreate);
        r.Register("open", "open(2) a file and name the descriptor (path, flags, mode, as)", ParseOpen);
        r.Register("close", "close(2) (fd)", c =>
        {
            var actor = c.Actor()!;
            var fd = c.Fd("fd", actor);
            c.Args.Done();
            return new CallStep(actor, $"{actor}: close({fd})", (run, p) => run.Syscall(p, p.Close(run.Actor(actor).Fds[fd])));
        });
        r.Register("read", "read(2) (fd, buf, len)", c => ParseSingle(c, "read", write: false, positioned: false));
        r.Register("write", "write(2) (fd, buf, len)", c => ParseSingle(c, "write", write: true, positioned: false));
        r.Register("pread", "pread64(2) (fd, buf, len, pos)", c => ParseSingle(c, "pread", write: false, positioned: true));
        r.Register("pwrite", "pwrite64(2) (fd, buf, len, pos)", c => ParseSingle(c, "pwrite", write: true, positioned: true));
        r.Register("readv", "readv(2) (fd, iov: [{at, len}], vec)", c => ParseVector(c, "readv", write: false, positioned: false));
        r.Register("writev", "writev(2) (fd, iov: [{at, len}], vec)", c => ParseVector(c, "writev", write: true, positioned: false));
        r.Register("preadv", "preadv(2) (fd, iov, vec, pos)", c => ParseVector(c, "preadv", write: false, positioned: true));
        r.Register("pwritev", "pwritev(2) (fd, iov, vec, pos)", c => ParseVector(c, "pwritev", write: true, positioned: true));
    }

    /// <summary>The ramfs mount holding a path.</summary>
    public static RamFs? RamFsOf(ScenarioRun run, string path, out string rest)
    {
        rest = "";
        if (run.Machine.Vfs.Resolve(path, out var fs, out rest) < 0) return null;
        return fs as RamFs;
    }

    private static string Path(StepParseContext c)
    {
        var node = c.Args.Require("path");
        var path = YamlValues.Scalar(c.File, node, $"{c.Args.What}.path");
        if (!path.StartsWith('/')) throw c.Args.Error(node, $"{c.Args.What}.path: '{path}' is not an absolute path");
        return path;
    }

    private static IScenarioStep ParseCreate(StepParseContext c)
    {
        var path = Path(c);
        var size = c.Args.Size("size") ?? 0;
        if (size > 1UL << 26) throw c.Args.Error(c.Args.Get("size")!, $"{c.Args.What}.size: at most 64M");
        var fill = c.Fill("fill", FillPattern.TryParse("0")!);
        c.Args.Done();
        return new MachineStep($"create {path}: {size} bytes cached, fill {fill}", run =>
        {
            if (RamFsOf(run, path, out var rest) is not { } fs) return StepResult.Error($"{path}: no ramfs mounted there (machine: ramfs: …)");
            fs.CreateWithData(rest, fill.Bytes(0, (int)size));
            return StepResult.Returned(0);
        });
    }

    private static IScenarioStep ParseOpen(StepParseContext c)
    {
        var actor = c.Actor()!;
        var path = Path(c);
        var flagsNode = c.Args.Get("flags");
        var flags = flagsNode == null ? Fcntl.O_RDWR : (int)c.Flags(flagsNode, typeof(Fcntl), $"{c.Args.What}.flags");
        var flagsText = flagsNode == null ? "O_RDWR" : string.Join("|", YamlValues.List(flagsNode).Select(n => YamlValues.Scalar(c.File, n, "flags")));
        var mode = (int)(c.Args.Long("mode") ?? 0x1a4);
        var asNode = c.Args.Require("as");
        var name = YamlValues.Scalar(c.File, asNode, $"{c.Args.What}.as");
        if (!AddrExpr.IsName(name)) throw c.Args.Error(asNode, $"{c.Args.What}.as: '{name}' is not a name");
        c.Args.Done();
        c.Symbols.Fds[actor].Add(name);
        return new CallStep(actor, $"{actor}: {name} = open({path}, {flagsText})", (run, p) =>
        {
            var r = p.Open(path, flags, mode);
            if (r >= 0)
            {
                run.Actor(actor).Fds[name] = (int)r;
                run.Actor(actor).FdPaths[name] = path;
            }
            return run.Syscall(p, r);
        });
    }

    private static IScenarioStep ParseSingle(StepParseContext c, string name, bool write, bool positioned)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var buf = c.UserAddr("buf", actor);
        var len = c.Size("len");
        var pos = positioned ? c.Args.Long("pos") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: missing required key 'pos'") : 0;
        c.Args.Done();
        var describe = $"{actor}: {name}({fd}, {buf}, {len}{(positioned ? $", {pos}" : "")})";
        return new CallStep(actor, describe, (run, p) =>
        {
            var loc = run.Resolve(buf, actor, out var err);
            if (loc == null) return StepResult.Error(err!);
            var f = run.Actor(actor).Fds.TryGetValue(fd, out var n) ? n : -1;
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            var r = (name, positioned) switch
            {
                ("read", _) => p.Read(f, loc.UserPtr, len),
                ("write", _) => p.Write(f, loc.UserPtr, len),
                ("pread", _) => p.Pread64(f, loc.UserPtr, len, pos),
                _ => p.Pwrite64(f, loc.UserPtr, len, pos),
            };
            return run.Syscall(p, r);
        });
    }

    private static IScenarioStep ParseVector(StepParseContext c, string name, bool write, bool positioned)
    {
        var actor = c.Actor()!;
        var fd = c.Fd("fd", actor);
        var segs = new List<(AddrExpr At, ulong Len)>();
        foreach (var item in c.Args.List("iov") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: missing required key 'iov'"))
        {
            var m = YamlMap.Of(c.File, item, $"{c.Args.What}.iov[{segs.Count}]", ScenarioKeys.Iov);
            var at = StepParseContext.CheckAddr(c.File, c.Symbols, m.Require("at"), $"{m.What}.at", actor, user: true, kernel: false);
            var len = m.Size("len") ?? throw m.Error(m.Node, $"{m.What}: missing required key 'len'");
            m.Done();
            segs.Add((at, len));
        }
        var vec = c.Args.Get("vec") is { } vn ? c.Addr(vn, $"{c.Args.What}.vec", actor, user: true, kernel: false) : null;
        var pos = positioned ? c.Args.Long("pos") ?? throw c.Args.Error(c.Args.Node, $"{c.Args.What}: missing required key 'pos'") : 0;
        c.Args.Done();
        var layout = string.Join(", ", segs.Select(s => $"{{{s.At}, {s.Len}}}"));
        var describe = $"{actor}: {name}({fd}, [{layout}], {segs.Count}{(positioned ? $", {pos}" : "")})";
        return new CallStep(actor, describe, (run, p) =>
        {
            var a = run.Actor(actor);
            var f = a.Fds.TryGetValue(fd, out var n) ? n : -1;
            if (f < 0) return StepResult.Error($"{fd} is not open (its open step failed)");
            var raw = new byte[segs.Count * 16];
            for (var i = 0; i < segs.Count; i++)
            {
                var loc = run.Resolve(segs[i].At, actor, out var err);
                if (loc == null) return StepResult.Error(err!);
                BitConverter.TryWriteBytes(raw.AsSpan(i * 16, 8), loc.Addr);
                BitConverter.TryWriteBytes(raw.AsSpan(i * 16 + 8, 8), segs[i].Len);
            }
            UserPtr at;
            if (vec != null)
            {
                var loc = run.Resolve(vec, actor, out var err);
                if (loc == null) return StepResult.Error(err!);
                at = loc.UserPtr;
            }
            else
            {
                if (raw.Length > (int)PageDefs.PAGE_SIZE) return StepResult.Error("more than 256 segments: give vec: a buffer for the iovec array");
                if (run.ScratchPage(a, out var err) is not { } s) return StepResult.Error(err!);
                at = s;
            }
            var st = p.Store(at, raw);
            if (!st.Completed((ulong)raw.Length)) return StepResult.Error($"storing the iovec array at {at} failed");
            var r = name switch
            {
                "readv" => p.Readv(f, at, segs.Count),
                "writev" => p.Writev(f, at, segs.Count),
                "preadv" => p.Preadv(f, at, segs.Count, pos),
                _ => p.Pwritev(f, at, segs.Count, pos),
            };
            return run.Syscall(p, r);
        });
    }
}
