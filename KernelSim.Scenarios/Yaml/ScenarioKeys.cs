using KernelSim.Scenarios.Expectations;
using KernelSim.Scenarios.Steps;
using static KernelSim.Scenarios.Yaml.YamlShape;

namespace KernelSim.Scenarios.Yaml;

/// <summary>
/// The keys of a scenario file, one <see cref="KeyTable"/> per mapping the parser reads: the parser attaches them to
/// what it reads, and docs/schemas/scenario.schema.json is generated from them (<see cref="Schema.FileSchemas"/>).
/// A new key goes here first: a debug build fails when the parser reads a key its table does not declare.
/// </summary>
internal static class ScenarioKeys
{
    private static YamlKey Req(string name, YamlShape? shape = null) => new(name, shape ?? Scalar, Required: true);

    private static YamlKey K(string name, YamlShape shape) => new(name, shape);

    /// <summary>prot: "rw", "PROT_READ|PROT_WRITE", a list of flags or a number.</summary>
    private static readonly YamlShape Flags = List(Scalar);

    public static readonly KeyTable Mapping = new("mapping", Req("name"), Req("size"), K("prot", Flags), "shm", "type", "fill", K("populate", Bool));

    public static readonly KeyTable Actor = new("actor", Req("name"), "comm", K("signals", Dict(Scalar)), "early-kill", K("mappings", List(Map(Mapping))));

    public static readonly KeyTable Ramfs = new("ramfs", "mount", "write-end");

    public static readonly KeyTable PmemNamespace = new("pmem namespace", Req("size"), "mode", "sector-size", "align");

    public static readonly KeyTable Pmem = new("pmem", "bus", "size", K("namespaces", List(Map(PmemNamespace))), "clear-err-unit", "hw-error-scrub");

    public static readonly KeyTable DaxFs = new("filesystem", "type", "device", "mount", "dax", "failure-route", "huge-faults");

    public static readonly KeyTable VirtioFsFile = new("virtio-fs host file", "name", "size", "node", "fill");

    public static readonly KeyTable VirtioFs = new("virtio-fs share", "tag", "name", "mount", "window", "dax",
        K("policy", Enum(ScenarioParser.PolicyNames)), K("files", List(Map(VirtioFsFile))));

    public static readonly KeyTable Machine = new("machine", "kernel", "cpu", "dram", "work", "seed", K("trace", Bool), K("early-kill", Bool),
        K("ramfs", List(Map(Ramfs))), K("pmem", Map(Pmem)), K("filesystems", List(Map(DaxFs))), K("virtiofs", List(Map(VirtioFs))));

    // ---- expect: --------------------------------------------------------------------------------------

    public static readonly KeyTable Signal = new("expected signal", "signo", "code", "addr", "lsb");
    public static readonly KeyTable Memory = new("expected memory", "at", "len", "same-as", "untouched", "byte", "bytes", "unmapped");
    public static readonly KeyTable File = new("expected file", "path", "size", "offset", "len", "same-as", "byte", "bytes");
    public static readonly KeyTable Page = new("expected page", "at", "hwpoison-entry", "resident", "pg-hwpoison");
    public static readonly KeyTable Mce = new("expected machine checks", "count", "total", "context", "severity");
    public static readonly KeyTable Badblocks = new("expected badblocks", "device", Req("list", List(Scalar)));
    public static readonly KeyTable Media = new("expected media", "device", "offset", "len", "byte", "same-as");
    public static readonly KeyTable Fuse = new("expected fuse requests", "share", "count", "opcode", K("contains", List(Scalar)));
    public static readonly KeyTable HostFile = new("expected host file", "share", "file", "size");
    public static readonly KeyTable Pagemap = new("expected pagemap entry", K("present", Bool), K("swap", Bool), K("file", Bool),
        K("exclusive", Bool), K("soft-dirty", Bool), "pfn", "pfn-not");
    public static readonly KeyTable Kpageflags = new("expected kpageflags", [.. PageSteps.KpfNames.Select(k => new YamlKey(k.Name, Bool))]);

    /// <summary>The value shape of each expect: key; the keys themselves are <see cref="ExpectationParser.Keys"/>.</summary>
    private static readonly Dictionary<string, YamlShape> ExpectShapes = new(StringComparer.Ordinal)
    {
        ["signal"] = AnyOf(Scalar, Map(Signal)),
        ["signals"] = Dict(AnyOf(Scalar, List(Map(Signal)))),
        ["memory"] = List(Map(Memory)),
        ["file"] = List(Map(File)),
        ["page"] = List(Map(Page)),
        ["processes"] = Dict(Scalar),
        ["mce"] = Map(Mce),
        ["dmesg"] = List(Scalar),
        ["trace"] = List(Scalar),
        ["output"] = List(Scalar),
        ["json"] = Dict(Scalar),
        ["badblocks"] = AnyOf(List(Scalar), Map(Badblocks)),
        ["media"] = Map(Media),
        ["fuse"] = AnyOf(List(Scalar), Map(Fuse)),
        ["host-file"] = Map(HostFile),
        ["text"] = Scalar,
        ["fields"] = Dict(Scalar),
        ["pagemap"] = Map(Pagemap),
        ["kpageflags"] = Map(Kpageflags),
    };

    public static readonly KeyTable Expect = new("expect",
        [.. ExpectationParser.Keys.Select(k => new YamlKey(k, ExpectShapes.GetValueOrDefault(k, Scalar)))]);

    // ---- steps ------------------------------------------------------------------------------------------

    /// <summary>The keys of a step item beside the step's name.</summary>
    public static readonly KeyTable StepItem = new("step item", "say", K("diagram", Bool), K("expect", Map(Expect)));

    public static readonly KeyTable Iov = new("iovec", Req("at"), Req("len"));

    private static readonly YamlKey[] Range = [ "actor", Req("at"), Req("len") ];

    /// <summary>Each step's argument keys, by step name (every step of <see cref="StepRegistry.Default"/>).</summary>
    public static readonly IReadOnlyDictionary<string, KeyTable> Steps = new[]
    {
        // mm and process steps (MmSteps)
        new KeyTable("mmap", [ "actor", .. Mapping.Keys ]),
        new KeyTable("munmap", Range),
        new KeyTable("mprotect", [ .. Range, Req("prot", Flags) ]),
        new KeyTable("madvise", [ .. Range, Req("advice") ]),
        new KeyTable("prctl", "actor", Req("option"), "arg2", "arg3", "arg4", "arg5"),
        new KeyTable("sigaction", "actor", Req("signal"), Req("action")),
        new KeyTable("subpage-protect", [ .. Range, "access" ]),
        // process steps (ProcessSteps)
        new KeyTable("fork", "actor", Req("as")),
        new KeyTable("exit", "actor", "status"),
        new KeyTable("wait", "actor", "child", K("options", Flags)),
        new KeyTable("mremap", "actor", Req("at"), Req("old-len"), Req("new-len"), K("flags", Flags), "new-addr", Req("name")),
        new KeyTable("msync", [ .. Range, Req("flags", Flags) ]),
        // user-mode access (AccessSteps)
        new KeyTable("load", "actor", Req("at"), "len"),
        new KeyTable("store", "actor", Req("at"), "len", "fill"),
        // kernel steps (KernelSteps)
        new KeyTable("kmalloc", Req("name"), Req("size"), "fill"),
        new KeyTable("poison", "pa", "actor", "at"),
        new KeyTable("copy", Req("routine"), "actor", Req("to"), Req("from"), Req("len")),
        new KeyTable("fault-in", Req("routine"), "actor", Req("at"), Req("len")),
        new KeyTable("restore-fpregs", [ .. Range, K("retry-any-trap", Bool) ]),
        new KeyTable("run-work"),
        // files (FileSteps)
        new KeyTable("open", "actor", Req("path"), K("flags", Flags), "mode", Req("as")),
        new KeyTable("close", "actor", Req("fd")),
        new KeyTable("read", "actor", Req("fd"), Req("buf"), Req("len")),
        new KeyTable("write", "actor", Req("fd"), Req("buf"), Req("len")),
        new KeyTable("pread", "actor", Req("fd"), Req("buf"), Req("len"), "pos"),
        new KeyTable("pwrite", "actor", Req("fd"), Req("buf"), Req("len"), "pos"),
        new KeyTable("readv", "actor", Req("fd"), K("iov", List(Map(Iov))), "vec"),
        new KeyTable("writev", "actor", Req("fd"), K("iov", List(Map(Iov))), "vec"),
        new KeyTable("preadv", "actor", Req("fd"), K("iov", List(Map(Iov))), "vec", "pos"),
        new KeyTable("pwritev", "actor", Req("fd"), K("iov", List(Map(Iov))), "vec", "pos"),
        new KeyTable("mmap-file", "actor", Req("fd"), Req("name"), Req("len"), K("prot", Flags), K("flags", Flags), "offset"),
        // filesystem steps (FsSteps)
        new KeyTable("create-file", Req("path"), "size", "fill"),
        new KeyTable("ftruncate", "actor", Req("fd"), Req("size")),
        new KeyTable("fallocate", "actor", Req("fd"), K("mode", Flags), "offset", Req("len")),
        new KeyTable("fsync", "actor", Req("fd")),
        new KeyTable("poison-file", Req("path"), "offset", "page", "line", K("known", Bool)),
        // VFS steps (VfsSteps)
        new KeyTable("statx", "actor", Req("path"), K("mask", Flags), K("flags", Flags)),
        new KeyTable("fstat", "actor", Req("fd")),
        new KeyTable("mkdir", "actor", Req("path"), "mode"),
        new KeyTable("fsgetxattr", "actor", Req("fd")),
        new KeyTable("fssetxattr", "actor", Req("fd"), K("xflags", Flags)),
        new KeyTable("fibmap", "actor", Req("fd"), "block"),
        new KeyTable("sync", "actor"),
        new KeyTable("syncfs", "actor", Req("fd")),
        new KeyTable("fdatasync", "actor", Req("fd")),
        new KeyTable("stat", "actor", "share", Req("path")),
        new KeyTable("sleep", "seconds"),
        // pmem (PmemSteps)
        new KeyTable("poison-pmem", "device", Req("offset")),
        new KeyTable("badblocks", "device", "store"),
        new KeyTable("ndctl", Req("command")),
        // virtio-fs host side (VirtioFsSteps)
        new KeyTable("host-truncate", "share", Req("file"), Req("size")),
        new KeyTable("host-extend", "share", Req("file"), Req("size")),
        new KeyTable("host-write", "share", Req("file"), "offset", Req("len"), "fill"),
        // tmpfs and memfd (ShmemSteps)
        new KeyTable("mount-tmpfs", Req("mount")),
        new KeyTable("memfd-create", "actor", "name", K("flags", Flags), Req("as")),
        new KeyTable("fcntl", "actor", Req("fd"), Req("cmd"), K("arg", Flags)),
        new KeyTable("unlink", "actor", Req("path")),
        new KeyTable("memory-failure-file", Req("path"), "page"),
        // files by path and page state, through the actor's system calls (PathSteps, PageSteps)
        new KeyTable("read-file", "actor", Req("path")),
        new KeyTable("write-file", "actor", Req("path"), Req("text")),
        new KeyTable("list-dir", "actor", Req("path")),
        new KeyTable("readlink", "actor", Req("path")),
        new KeyTable("pagemap", "actor", Req("at"), "as"),
        new KeyTable("kpageflags", "actor", Req("pfn")),
        new KeyTable("unpoison-pfn", "actor", Req("pfn")),
        new KeyTable("corrupt-pfn", "actor", Req("pfn")),
        new KeyTable("mount-hugetlbfs", Req("mount")),
    }.ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Every key of a step item: a step name of <see cref="StepRegistry.Default"/> or a key of <see cref="StepItem"/>.</summary>
    public static readonly KeyTable StepItemAndSteps = new("step item and step names",
        [.. StepItem.Keys, .. Steps.Keys.Select(n => new YamlKey(n, Scalar))]);

    /// <summary>The top level of a scenario document.</summary>
    public static readonly KeyTable Top = new("scenario", Req("scenario"), "title", "story", K("machine", Map(Machine)),
        K("actors", Sequence(Map(Actor))), Req("steps", Sequence(new StepShape())));
}

/// <summary>A step item: exactly one step name (<see cref="ScenarioKeys.Steps"/>) with its arguments, and <see cref="ScenarioKeys.StepItem"/>'s keys.</summary>
internal sealed record StepShape : YamlShape;
