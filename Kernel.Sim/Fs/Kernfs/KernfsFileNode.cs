using System.Runtime.CompilerServices;
using System.Text;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// A kernfs file (struct kernfs_ops): what open, read and write do. Subclass it for binary files (bin_attribute,
/// /proc/self/pagemap); <see cref="KernfsAttribute"/> is the sysfs text attribute.
/// </summary>
public abstract class KernfsFileNode(string name, int perm) : KernfsNode(name, Fcntl.S_IFREG | (perm & 0xfff))
{
    /// <summary>ops-&gt;seq_show or ops-&gt;read exists (else an open for reading fails with −EACCES).</summary>
    public abstract bool CanRead { get; }

    /// <summary>ops-&gt;write exists (else an open for writing fails with −EACCES).</summary>
    public abstract bool CanWrite { get; }

    /// <summary>i_size as stat shows it (kn-&gt;attr.size: PAGE_SIZE for sysfs attributes).</summary>
    public virtual long Size => (long)PageDefs.PAGE_SIZE;

    /// <summary>ops-&gt;open: extra checks after the permission bits (a capability, a busy device). 0 or −errno.</summary>
    public virtual int Open(KernfsOpenFile of) => 0;

    /// <summary>Read up to <paramref name="dst"/>.Length bytes at <paramref name="pos"/>: the count (0 at the end) or −errno.</summary>
    public abstract long Read(KernfsOpenFile of, long pos, Span<byte> dst);

    /// <summary>
    /// Write <paramref name="src"/> (at most a page, already copied from user space) at <paramref name="pos"/>: the count
    /// consumed or −errno.
    /// </summary>
    public abstract long Write(KernfsOpenFile of, long pos, ReadOnlySpan<byte> src);
}

/// <summary>What a show() method returned: the text, or a negative errno.</summary>
/// <param name="Text">The text (null with an error).</param>
/// <param name="Error">0 or −errno.</param>
public readonly record struct ShowResult(string? Text, int Error)
{
    /// <summary>A successful show.</summary>
    public static implicit operator ShowResult(string text) => new(text, 0);

    /// <summary>A show that failed with <paramref name="errno"/> (negative).</summary>
    public static ShowResult Fail(int errno) => new(null, errno);
}

/// <summary>
/// A sysfs text attribute (fs/sysfs/file.c: sysfs_kf_seq_show / sysfs_kf_write over a seq_file). A read at position 0
/// calls show and keeps its text for the reads that follow (seq_read_iter); text of a page or more is cut to
/// PAGE_SIZE − 1 bytes as sysfs_kf_seq_show does. A write hands store the bytes (at most a page, kernfs_fop_write_iter)
/// as Latin-1 text up to the first NUL (the C string the kernel's store sees); a zero-length write returns 0 without
/// calling it.
/// </summary>
public class KernfsAttribute : KernfsFileNode
{
    // show and store of either shape (Func<ShowResult> / Func<string, long> here, Func<T, …> in KernfsAttribute<T>):
    // one pair of fields for both, so a typed attribute carries no unused pair of the other shape.
    private readonly Delegate? _show, _store;

    /// <summary>An attribute whose show returns the text (null: not readable) and whose store takes it (null: not writable).</summary>
    public KernfsAttribute(string name, int perm, Func<ShowResult>? show, Func<string, long>? store) : this(name, perm, show, store, typed: false)
    {
    }

    /// <summary>The constructor of both shapes; <paramref name="typed"/> only tells it apart from the public one.</summary>
    private protected KernfsAttribute(string name, int perm, Delegate? show, Delegate? store, bool typed) : base(name, perm)
    {
        _ = typed;
        _show = show;
        _store = store;
    }

    /// <summary>The show delegate as given to the constructor.</summary>
    private protected Delegate? ShowFn => _show;

    /// <summary>The store delegate as given to the constructor.</summary>
    private protected Delegate? StoreFn => _store;

    /// <inheritdoc/>
    public override bool CanRead => _show != null;

    /// <inheritdoc/>
    public override bool CanWrite => _store != null;

    /// <summary>Cut the text at PAGE_SIZE − 1 (sysfs); false for procfs seq files, which may be longer.</summary>
    public bool PageLimited { get; init; } = true;

    /// <inheritdoc/>
    public override long Read(KernfsOpenFile of, long pos, Span<byte> dst)
    {
        if (pos == 0 || (of.SeqBuffer == null && of.SeqText == null))
        {
            var r = Show();
            if (r.Error < 0) return r.Error;
            var text = r.Text ?? "";
            of.SeqBuffer = null;
            of.SeqText = null;
            // Text of Latin-1 characters only (one byte each) is kept as it is and encoded as it is read: the same
            // bytes without an array per show. Anything else takes the encoder's replacement bytes.
            if (!text.AsSpan().ContainsAnyExceptInRange('\0', '\u00ff'))
                of.SeqText = PageLimited && text.Length >= (int)PageDefs.PAGE_SIZE ? text[..((int)PageDefs.PAGE_SIZE - 1)] : text;
            else
            {
                var bytes = Encoding.Latin1.GetBytes(text);
                if (PageLimited && bytes.Length >= (int)PageDefs.PAGE_SIZE) Array.Resize(ref bytes, (int)PageDefs.PAGE_SIZE - 1);
                of.SeqBuffer = bytes;
            }
        }
        if (of.SeqText is { } t)
        {
            if (pos >= t.Length) return 0;
            var len = (int)Math.Min(dst.Length, t.Length - pos);
            return Encoding.Latin1.GetBytes(t.AsSpan((int)pos, len), dst);
        }
        var buf = of.SeqBuffer!;
        if (pos >= buf.Length) return 0;
        var n = (int)Math.Min(dst.Length, buf.Length - pos);
        buf.AsSpan((int)pos, n).CopyTo(dst);
        return n;
    }

    /// <inheritdoc/>
    public override long Write(KernfsOpenFile of, long pos, ReadOnlySpan<byte> src)
    {
        if (src.Length == 0) return 0;
        // kernfs_fop_write_iter NUL-terminates the buffer and every store parses it as a C string, so bytes from the
        // first NUL on (ndctl writes strlen + 1) are never seen; a store that took all the text consumed the write.
        var nul = src.IndexOf((byte)0);
        var text = Encoding.Latin1.GetString(nul >= 0 ? src[..nul] : src);
        var r = Store(text);
        return nul >= 0 && r == text.Length ? src.Length : r;
    }

    /// <summary>The attribute's show(): its text or −errno (only called when <see cref="CanRead"/>).</summary>
    protected virtual ShowResult Show() => Unsafe.As<Func<ShowResult>>(_show!)();

    /// <summary>The attribute's store(): the count consumed or −errno (only called when <see cref="CanWrite"/>).</summary>
    protected virtual long Store(string text) => Unsafe.As<Func<string, long>>(_store!)(text);
}

/// <summary>
/// A <see cref="KernfsAttribute"/> whose show and store take the object the attribute belongs to (struct device's
/// attributes get their dev the same way): the node holds the object, so show and store can be static lambdas, made
/// once for all machines, instead of a closure and a delegate or two per attribute of every machine's tree.
/// </summary>
public sealed class KernfsAttribute<T>(string name, int perm, T obj, Func<T, ShowResult>? show, Func<T, string, long>? store)
    : KernfsAttribute(name, perm, show, store, typed: true)
{
    /// <inheritdoc/>
    protected override ShowResult Show() => Unsafe.As<Func<T, ShowResult>>(ShowFn!)(obj);

    /// <inheritdoc/>
    protected override long Store(string text) => Unsafe.As<Func<T, string, long>>(StoreFn!)(obj, text);
}
