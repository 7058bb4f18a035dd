using System.Text;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>exit(status) from inside a command (usage_with_options, die): unwinds to the program's main.</summary>
internal sealed class NdctlExit(int status) : Exception("exit")
{
    public int Status { get; } = status;
}

/// <summary>
/// The process side of one ndctl run: stdout/stderr, util/usage.c's error()/warning() reports, and the system-call
/// level helpers libndctl's util/sysfs.c uses (sysfs_read_attr, sysfs_write_attr, opendir/readdir, realpath, lstat
/// of a link), made only of the process's system calls.
/// </summary>
internal sealed class NdctlIo(Process p)
{
    /// <summary>SYSFS_ATTR_SIZE.</summary>
    public const int SysfsAttrSize = 1024;

    public Process P { get; } = p;

    public StringBuilder Out { get; } = TakeSpare(ref _spareOut);

    public StringBuilder Err { get; } = TakeSpare(ref _spareErr);

    // stdout and stderr are built in one builder each per thread, handed from run to run (RecycleOutput after the run's
    // text is taken), so a run does not grow new ones chunk by chunk.
    [ThreadStatic] private static StringBuilder? _spareOut, _spareErr;

    private static StringBuilder TakeSpare(ref StringBuilder? spare)
    {
        var sb = spare ?? new StringBuilder();
        spare = null;
        return sb;
    }

    /// <summary>The run's output has been taken: its builders, emptied, serve the next run on this thread.</summary>
    public void RecycleOutput()
    {
        const int keepAtMost = 64 * 1024;
        if (Out.Capacity <= keepAtMost) _spareOut = Out.Clear();
        if (Err.Capacity <= keepAtMost) _spareErr = Err.Clear();
    }

    /// <summary>error(): " %s%s\n" with the " Error: " prefix (util/usage.c report); returns -1.</summary>
    public int Error(string msg)
    {
        Err.Append("  Error: ").Append(msg).Append('\n');
        return -1;
    }

    /// <summary>warning(): "  Warning: msg\n".</summary>
    public void Warning(string msg) => Err.Append("  Warning: ").Append(msg).Append('\n');

    /// <summary>libndctl's err(ctx, …) through log_stderr: "libndctl: fn: msg".</summary>
    public void LibErr(string fn, string msg) => Err.Append("libndctl: ").Append(fn).Append(": ").Append(msg);

    /// <summary>
    /// __sysfs_read_attr: open, one read of up to SYSFS_ATTR_SIZE bytes, close; a full buffer is an error; one
    /// trailing newline is dropped. Returns 0 or −errno.
    /// </summary>
    public int ReadAttr(string path, out string text)
    {
        text = "";
        var fd = P.Open(path, Fcntl.O_RDONLY | Fcntl.O_CLOEXEC);
        if (fd < 0) return (int)fd;
        var buf = Scratch;
        var n = P.Read((int)fd, buf, SysfsAttrSize);
        P.Close((int)fd);
        if (n < 0) return (int)n;
        if (n >= SysfsAttrSize) return -Errno.EIO;
        Span<byte> bytes = stackalloc byte[(int)n]; // only what was read is zeroed, not SYSFS_ATTR_SIZE
        Load(buf, bytes);
        if (bytes.Length > 0 && bytes[^1] == (byte)'\n') bytes = bytes[..^1];
        text = NdStrings.Latin1(bytes);
        return 0;
    }

    /// <summary>
    /// write_attr: open O_WRONLY, one write of strlen(buf) + 1 bytes (ndctl writes the terminating NUL too), close; a
    /// short write is an error. Returns 0 or −errno.
    /// </summary>
    public int WriteAttr(string path, string text)
    {
        var fd = P.Open(path, Fcntl.O_WRONLY | Fcntl.O_CLOEXEC);
        if (fd < 0) return (int)fd;
        var data = Encoding.Latin1.GetBytes(text + "\0");
        var buf = Scratch;
        Store(buf, data);
        var n = P.Write((int)fd, buf, (ulong)data.Length);
        P.Close((int)fd);
        if (n < 0) return (int)n;
        return n < data.Length ? -Errno.EIO : 0;
    }

    /// <summary>opendir/readdir: the names (without "." and ".."), or null when the directory cannot be opened.</summary>
    public List<string>? ReadDir(string path) => ReadDir(path, null);

    /// <summary>opendir/readdir keeping the names that start with <paramref name="prefix"/> (compared in the dirent, as C does).</summary>
    public List<string>? ReadDir(string path, string? prefix) => Lived(P.ListDir(path, prefix, out var names)) < 0 ? null : names;

    /// <summary>lstat(path) is a symbolic link (is_enabled's check of a device's "driver" link).</summary>
    public bool IsLink(string path)
    {
        Span<byte> target = stackalloc byte[LinkMax];
        return Lived(P.ReadLink(path, target, out _)) == 0;
    }

    /// <summary>The readlink buffer (UserLib reads up to 4 KiB of link text).</summary>
    private const int LinkMax = 4096;

    /// <summary>readlink(path) as text (UTF-8, as UserLib decodes it): 0, or the call's −errno.</summary>
    private long ReadLink(string path, out string target)
    {
        Span<byte> bytes = stackalloc byte[LinkMax];
        var r = Lived(P.ReadLink(path, bytes, out var n));
        if (r < 0)
        {
            target = "";
            return r;
        }
        Span<char> chars = stackalloc char[Encoding.UTF8.GetMaxCharCount(n)];
        target = NdStrings.Get(chars[..Encoding.UTF8.GetChars(bytes[..n], chars)]);
        return 0;
    }

    // realpath's working state, kept for the run: the texts still to walk (the path, then each link target on top)
    // with their offsets, and the resolved prefix with the length before each component (for "..").
    private readonly Stack<(string Text, int Pos)> _todo = new();
    private readonly List<int> _marks = [];
    private char[] _resolved = new char[256];

    /// <summary>realpath(3): every symbolic link resolved, "." and ".." removed; null (ENOENT, ELOOP) when it fails.</summary>
    public string? RealPath(string path)
    {
        var todo = _todo;
        var marks = _marks;
        todo.Clear();
        marks.Clear();
        todo.Push((path, 0));
        var len = 0;
        var links = 0;
        while (todo.Count > 0)
        {
            // The next non-empty component of the text on top (the text stays on the stack for what follows it).
            var (text, pos) = todo.Pop();
            while (pos < text.Length && text[pos] == '/') pos++;
            if (pos == text.Length) continue;
            var start = pos;
            while (pos < text.Length && text[pos] != '/') pos++;
            todo.Push((text, pos));
            var c = text.AsSpan(start, pos - start);
            if (c is ".") continue;
            if (c is "..")
            {
                if (marks.Count > 0)
                {
                    len = marks[^1];
                    marks.RemoveAt(marks.Count - 1);
                }
                continue;
            }
            var mark = len;
            if (len + 1 + c.Length > _resolved.Length) Array.Resize(ref _resolved, Math.Max(_resolved.Length * 2, len + 1 + c.Length));
            _resolved[len++] = '/';
            c.CopyTo(_resolved.AsSpan(len));
            len += c.Length;
            var r = ReadLink(NdStrings.Get(_resolved.AsSpan(0, len)), out var target);
            if (r == -Errno.EINVAL)
            {
                marks.Add(mark);
                continue;
            }
            len = mark;
            if (r < 0 || ++links > 40) return null;
            if (target.StartsWith('/'))
            {
                len = 0;
                marks.Clear();
            }
            todo.Push((target, 0));
        }
        return len == 0 ? "/" : NdStrings.Get(_resolved.AsSpan(0, len));
    }

    /// <summary>
    /// The program's own user-mode load of its buffer. A signal there (poison in a frame the buffer reused) ends the
    /// program: nothing after the faulting instruction runs (<see cref="Signalled"/>).
    /// </summary>
    public void Load(UserPtr at, Span<byte> into)
    {
        var r = P.Load(at, into);
        if (r.Signal is { } s && !r.Completed((ulong)into.Length)) throw Signalled(s.Signo);
    }

    /// <summary>The program's own user-mode store into its buffer (see <see cref="Load"/>).</summary>
    public void Store(UserPtr at, ReadOnlySpan<byte> data)
    {
        var r = P.Store(at, data);
        if (r.Signal is { } s && !r.Completed((ulong)data.Length)) throw Signalled(s.Signo);
    }

    /// <summary>A UserLib call's result; if a signal killed the process inside it, the program ends there.</summary>
    private long Lived(long r) => r < 0 && P.KilledBy is { } k ? throw Signalled(k.Signo) : r;

    /// <summary>The program ended by a signal: the status a shell shows for it, 128 + the signal number.</summary>
    private static NdctlExit Signalled(int signo) => new(128 + signo);

    private UserPtr? _scratch;

    /// <summary>A 64 KiB buffer mapped in the process for attribute text and ioctl payloads.</summary>
    public UserPtr Scratch => _scratch ??= P.MapAnonymous(ScratchSize);

    public const int ScratchSize = 64 * 1024;

    /// <summary>munmap the scratch buffer at the end of the run.</summary>
    public void Release()
    {
        if (_scratch is { } s) P.Munmap(s.Value, ScratchSize);
        _scratch = null;
    }

    /// <summary>strerror(3) text for a positive errno.</summary>
    public static string StrError(int errno) => errno switch
    {
        1 => "Operation not permitted",
        2 => "No such file or directory",
        5 => "Input/output error",
        6 => "No such device or address",
        11 => "Resource temporarily unavailable",
        12 => "Cannot allocate memory",
        13 => "Permission denied",
        16 => "Device or resource busy",
        17 => "File exists",
        19 => "No such device",
        22 => "Invalid argument",
        25 => "Inappropriate ioctl for device",
        28 => "No space left on device",
        42 => "No message of desired type",
        61 => "No data available",
        95 => "Operation not supported",
        110 => "Connection timed out",
        _ => $"Unknown error {errno}",
    };
}
