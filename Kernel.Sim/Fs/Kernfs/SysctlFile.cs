using System.Globalization;
using System.Text;
using KernelSim.Uapi;

namespace KernelSim.Fs.Kernfs;

/// <summary>
/// A /proc/sys integer file with proc_dointvec_minmax (or proc_doulongvec_minmax) semantics (kernel/sysctl.c). Access is
/// sysctl's test_perm: root (here: CAP_SYS_ADMIN) is checked against the owner bits — a 0200 file cannot be read even
/// by root — others against the "other" bits (−EACCES at open). A read at position 0 gives "%d\n"; a read at any other
/// position gives 0 bytes. A write at position 0 skips blanks, parses one decimal number (leading '-' allowed for
/// int), which must end at a blank, a newline or the end (−EINVAL otherwise, and for nothing but blanks), checks
/// [min, max] (−EINVAL), then stores it and consumes the whole buffer; a write at another position is ignored but
/// consumed (sysctl_writes_strict = 1).
/// </summary>
public sealed class SysctlFile(string name, int perm, Func<long> get, Func<long, int> set, long min, long max, bool unsignedLong = false)
    : KernfsFileNode(name, perm)
{
    /// <inheritdoc/>
    public override bool CanRead => true;

    /// <inheritdoc/>
    public override bool CanWrite => true;

    /// <summary>proc_sys_open + test_perm for root: the owner bits decide.</summary>
    public override int Open(KernfsOpenFile of)
    {
        ArgumentNullException.ThrowIfNull(of);
        if (of.Opener is { CapSysAdmin: false }) return 0; // the "other" bits were already applied
        var acc = of.Flags & Fcntl.O_ACCMODE;
        var read = acc is Fcntl.O_RDONLY or Fcntl.O_RDWR;
        var write = acc is Fcntl.O_WRONLY or Fcntl.O_RDWR;
        if ((read && (Mode & 0x100) == 0) || (write && (Mode & 0x80) == 0)) return -Errno.EACCES;
        return 0;
    }

    /// <inheritdoc/>
    public override long Read(KernfsOpenFile of, long pos, Span<byte> dst)
    {
        if (pos != 0 || dst.Length == 0) return 0;
        var text = get().ToString(CultureInfo.InvariantCulture);
        var n = Math.Min(dst.Length, text.Length);
        Encoding.ASCII.GetBytes(text.AsSpan(0, n), dst);
        if (n < dst.Length) dst[n++] = (byte)'\n';
        return n;
    }

    /// <inheritdoc/>
    public override long Write(KernfsOpenFile of, long pos, ReadOnlySpan<byte> src)
    {
        if (pos != 0) return src.Length; // proc_first_pos_non_zero_ignore (SYSCTL_WRITES_STRICT)
        var i = 0;
        while (i < src.Length && IsSpace(src[i])) i++;
        if (i == src.Length) return -Errno.EINVAL;
        var neg = false;
        if (src[i] == '-')
        {
            if (unsignedLong) return -Errno.EINVAL;
            neg = true;
            i++;
        }
        var start = i;
        ulong v = 0;
        while (i < src.Length && src[i] >= '0' && src[i] <= '9' && i - start < 21)
        {
            var next = unchecked(v * 10 + (ulong)(src[i] - '0'));
            if (next / 10 != v) return -Errno.EINVAL;
            v = next;
            i++;
        }
        if (i == start || (i < src.Length && !IsSpace(src[i]))) return -Errno.EINVAL;
        if (!unsignedLong && v > (neg ? 2147483648UL : int.MaxValue)) return -Errno.EINVAL;
        var value = neg ? -(long)v : (long)v;
        if (value < min || value > max) return -Errno.EINVAL;
        var r = set(value);
        if (r < 0) return r;
        while (i < src.Length && IsSpace(src[i])) i++;
        return i; // *lenp -= left: trailing text after the value is not consumed
    }

    private static bool IsSpace(byte b) => b is (byte)' ' or (byte)'\t' or (byte)'\n';
}
