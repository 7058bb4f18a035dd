using System.IO.Compression;
using System.Text;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// A gzip-compressed cpio archive in the "newc" format the kernel unpacks as its initramfs
/// (init/initramfs.c; usr/gen_init_cpio.c writes the same headers): 110-byte ASCII headers, names and data padded
/// to 4 bytes, a TRAILER!!! entry at the end.
/// </summary>
public sealed class Initramfs
{
    private readonly List<(string Path, uint Mode, byte[] Data, uint RdevMajor, uint RdevMinor)> _entries = [];

    /// <summary>A directory (0755).</summary>
    public Initramfs Dir(string path) { _entries.Add((path, 0x41ed, [], 0, 0)); return this; }

    /// <summary>A regular file with the given permission bits.</summary>
    public Initramfs File(string path, byte[] data, uint perm = 0x1a4) { _entries.Add((path, 0x8000 | perm, data, 0, 0)); return this; }

    /// <summary>A character device node (0600).</summary>
    public Initramfs CharDev(string path, uint major, uint minor) { _entries.Add((path, 0x2180, [], major, minor)); return this; }

    /// <summary>The uncompressed archive.</summary>
    public byte[] Cpio()
    {
        using var ms = new MemoryStream();
        uint ino = 1;
        foreach (var (path, mode, data, maj, min) in _entries) Write(ms, path, mode, data, ino++, maj, min);
        Write(ms, "TRAILER!!!", 0, [], 0, 0, 0);
        return ms.ToArray();
    }

    /// <summary>The archive, gzip-compressed.</summary>
    public byte[] Gzip()
    {
        using var ms = new MemoryStream();
        using (var gz = new GZipStream(ms, CompressionLevel.Fastest, leaveOpen: true)) gz.Write(Cpio());
        return ms.ToArray();
    }

    private static void Write(Stream s, string path, uint mode, byte[] data, uint ino, uint maj, uint min)
    {
        var name = Encoding.ASCII.GetBytes(path.TrimStart('/') + "\0");
        var header = $"070701{ino:X8}{mode:X8}{0:X8}{0:X8}{1:X8}{0:X8}{data.Length:X8}{0:X8}{0:X8}{maj:X8}{min:X8}{name.Length:X8}{0:X8}";
        s.Write(Encoding.ASCII.GetBytes(header));
        s.Write(name);
        Pad(s);
        s.Write(data);
        Pad(s);
    }

    private static void Pad(Stream s)
    {
        while (s.Position % 4 != 0) s.WriteByte(0);
    }
}
