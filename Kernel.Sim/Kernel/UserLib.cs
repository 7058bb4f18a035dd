using System.Buffers.Binary;
using System.Text;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Kernel;

/// <summary>
/// A few libc-level helpers a user-space program (a test, the ndctl front end) uses to talk to files by path: each is
/// made only of system calls of the process — open, read, write, getdents64, readlink, close — through a
/// scratch buffer mapped in the process, so every kernel rule (permissions, −EACCES, −ENODEV, short counts) applies.
/// Each returns 0 or the system call's −errno (<see cref="Machine.NoReturn"/> if the process died). The program's own
/// loads and stores of the scratch buffer are user-mode accesses too: one that takes a signal (poison in a reused frame,
/// a fatal SIGBUS) ends the helper with <see cref="Machine.NoReturn"/> and its descriptor left open: the program never
/// gets past that access (killed, or gone through its signal handler).
/// </summary>
public static class UserLib
{
    private const int Chunk = 4096;

    /// <summary>cat: read the whole file at <paramref name="path"/> as text.</summary>
    public static long ReadText(this Process p, string path, out string text)
    {
        text = "";
        var r = ReadAll(p, path, out var bytes);
        if (r < 0) return r;
        text = Encoding.Latin1.GetString(bytes);
        return 0;
    }

    /// <summary>Read the whole file at <paramref name="path"/> (open O_RDONLY, read until 0, close).</summary>
    public static long ReadAll(this Process p, string path, out byte[] bytes)
    {
        bytes = [];
        var fd = p.Open(path, Fcntl.O_RDONLY);
        if (fd < 0) return fd;
        var buf = Scratch(p);
        var all = new List<byte>();
        var tmp = new byte[Chunk];
        long r;
        while ((r = p.Read((int)fd, buf, Chunk)) > 0)
        {
            if (!p.Load(buf, tmp.AsSpan(0, (int)r)).Completed((ulong)r)) return Machine.NoReturn;
            all.AddRange(tmp.AsSpan(0, (int)r));
        }
        p.Close((int)fd);
        if (r < 0) return r;
        bytes = [.. all];
        return 0;
    }

    /// <summary>
    /// pread: open <paramref name="path"/> O_RDONLY, one pread64(2) of <paramref name="dst"/>'s length at
    /// <paramref name="pos"/>, close. Returns the count read (copied to the start of <paramref name="dst"/>) or −errno.
    /// </summary>
    public static long ReadAt(this Process p, string path, long pos, Span<byte> dst)
    {
        ArgumentNullException.ThrowIfNull(p);
        if (dst.Length > Chunk * 4) return -Errno.E2BIG;
        var fd = p.Open(path, Fcntl.O_RDONLY);
        if (fd < 0) return fd;
        var buf = Scratch(p);
        var r = p.Pread64((int)fd, buf, (ulong)dst.Length, pos);
        if (r > 0 && !p.Load(buf, dst[..(int)r]).Completed((ulong)r)) return Machine.NoReturn;
        p.Close((int)fd);
        return r;
    }

    /// <summary>
    /// echo -n TEXT &gt; path: open O_WRONLY, one write(2) of the text, close. Returns the write's count or −errno (a
    /// short count is returned as is).
    /// </summary>
    public static long WriteText(this Process p, string path, string text)
    {
        var data = Encoding.Latin1.GetBytes(text);
        if (data.Length > Chunk * 4) return -Errno.E2BIG;
        var fd = p.Open(path, Fcntl.O_WRONLY);
        if (fd < 0) return fd;
        var buf = Scratch(p);
        if (!p.Store(buf, data).Completed((ulong)data.Length)) return Machine.NoReturn;
        var r = p.Write((int)fd, buf, (ulong)data.Length);
        p.Close((int)fd);
        return r;
    }

    /// <summary>opendir/readdir: the names in the directory at <paramref name="path"/> (without "." and "..").</summary>
    public static long ListDir(this Process p, string path, out List<string> names) => ListDir(p, path, null, out names);

    /// <summary>
    /// <see cref="ListDir(Process, string, out List{string})"/> keeping only the names that start with
    /// <paramref name="prefix"/> (all of them when it is null): the same system calls, and no string for a name the
    /// caller skips (a C program compares d_name in place).
    /// </summary>
    public static long ListDir(this Process p, string path, string? prefix, out List<string> names)
    {
        names = [];
        Span<byte> ascii = stackalloc byte[64];
        var asciiPrefix = prefix != null && prefix.Length <= ascii.Length && System.Text.Ascii.IsValid(prefix);
        if (asciiPrefix) ascii = ascii[..Encoding.ASCII.GetBytes(prefix, ascii)];
        var fd = p.Open(path, Fcntl.O_RDONLY | Fcntl.O_DIRECTORY);
        if (fd < 0) return fd;
        var buf = Scratch(p);
        Span<byte> tmp = stackalloc byte[Chunk];
        long r;
        while ((r = p.Getdents64((int)fd, buf, Chunk)) > 0)
        {
            if (!p.Load(buf, tmp[..(int)r]).Completed((ulong)r)) return Machine.NoReturn;
            for (var off = 0; off < r;)
            {
                var reclen = BinaryPrimitives.ReadUInt16LittleEndian(tmp[(off + 16)..]);
                var name = tmp.Slice(off + 19, reclen - 19);
                var d = name[..name.IndexOf((byte)0)];
                // An ASCII prefix compares the same on the UTF-8 bytes as on the decoded name.
                if (!asciiPrefix || d.StartsWith(ascii))
                {
                    var s = Encoding.UTF8.GetString(d);
                    if (s is not ("." or "..") && (prefix == null || s.StartsWith(prefix, StringComparison.Ordinal))) names.Add(s);
                }
                off += reclen;
            }
        }
        p.Close((int)fd);
        return r < 0 ? r : 0;
    }

    /// <summary>readlink: the link text at <paramref name="path"/>.</summary>
    public static long ReadLink(this Process p, string path, out string target)
    {
        target = "";
        Span<byte> tmp = stackalloc byte[Chunk];
        var r = ReadLink(p, path, tmp, out var n);
        if (r < 0) return r;
        target = Encoding.UTF8.GetString(tmp[..n]);
        return 0;
    }

    /// <summary>
    /// readlink into <paramref name="target"/>: the link text's bytes (<paramref name="length"/> of them), by the same
    /// system call and load as <see cref="ReadLink(Process, string, out string)"/>, with no string made (the caller
    /// decodes it, or only wants to know it is a link). Bytes past the span's length (4 KiB holds any) are not loaded.
    /// </summary>
    public static long ReadLink(this Process p, string path, Span<byte> target, out int length)
    {
        length = 0;
        var buf = Scratch(p);
        var r = p.Readlink(path, buf, Chunk);
        if (r < 0) return r;
        var tmp = target[..(int)Math.Min(Math.Min(r, Chunk), target.Length)];
        if (!p.Load(buf, tmp).Completed((ulong)tmp.Length)) return Machine.NoReturn;
        length = tmp.Length;
        return 0;
    }

    // One 16 KiB read-write anonymous mapping per process, made on first use.
    private static UserPtr Scratch(Process p) => p.UserLibScratch ??= p.MapAnonymous(Chunk * 4);
}
