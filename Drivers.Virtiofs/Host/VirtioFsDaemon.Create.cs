using System.Buffers;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>The daemon's namespace operations: FUSE_CREATE, FUSE_MKNOD and FUSE_UNLINK (virtiofsd lo_create, lo_mknod, lo_unlink).</summary>
public sealed partial class VirtioFsDaemon
{
    /// <summary>
    /// FUSE_CREATE (lo_create): openat(root, name, flags | O_CREAT, mode) — an existing name is opened unless O_EXCL
    /// (−EEXIST); a parent other than the root → −ENOTDIR (flat share); a name missing → −EINVAL. Reply: fuse_entry_out
    /// then fuse_open_out (144 bytes). Without <see cref="DaemonOptions.Create"/>: −ENOSYS.
    /// </summary>
    private void Create(in FuseInHeader h, ReadOnlySpan<byte> a, in ReadOnlySequence<byte> args, PipeWriter w)
    {
        if (!Options.Create)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.ENOSYS);
            return;
        }
        var err = NewEntry(h, args.Slice(FuseConst.CreateInSize), (int)FuseWire.U32(a, 4), (FuseWire.U32(a, 0) & Fcntl.O_EXCL) != 0, out var f);
        if (err != 0)
        {
            FuseReplyWriter.Header(w, h.Unique, err);
            return;
        }
        var fh = _nextFh++;
        _handles[fh] = f!;
        var reply = new FuseReplyWriter(w, FuseConst.EntryOutSize + FuseConst.OpenOutSize);
        FuseWire.EntryOut(reply.Args, f!.NodeId, Options.EntryTimeoutSeconds, Options.AttrTimeoutSeconds, AttrOf(f));
        FuseWire.OpenOut(reply.Args[FuseConst.EntryOutSize..], fh, 0);
        reply.Commit(h.Unique, 0, FuseConst.EntryOutSize + FuseConst.OpenOutSize);
    }

    /// <summary>
    /// FUSE_MKNOD (lo_mknod → mknodat): a regular file only (other types: −EPERM, as an unprivileged virtiofsd gets for
    /// device nodes) [model]; an existing name → −EEXIST. Reply: fuse_entry_out.
    /// </summary>
    private void Mknod(in FuseInHeader h, ReadOnlySpan<byte> a, in ReadOnlySequence<byte> args, PipeWriter w)
    {
        var mode = (int)FuseWire.U32(a, 0);
        if ((mode & Fcntl.S_IFMT) != Fcntl.S_IFREG)
        {
            FuseReplyWriter.Header(w, h.Unique, -Errno.EPERM);
            return;
        }
        var err = NewEntry(h, args.Slice(FuseConst.MknodInSize), mode, exclusive: true, out var f);
        if (err != 0)
        {
            FuseReplyWriter.Header(w, h.Unique, err);
            return;
        }
        var reply = new FuseReplyWriter(w, FuseConst.EntryOutSize);
        FuseWire.EntryOut(reply.Args, f!.NodeId, Options.EntryTimeoutSeconds, Options.AttrTimeoutSeconds, AttrOf(f));
        reply.Commit(h.Unique, 0, FuseConst.EntryOutSize);
    }

    /// <summary>The file named after the fixed args: created with <paramref name="mode"/> (S_IFREG | the permission bits), or the existing one.</summary>
    private int NewEntry(in FuseInHeader h, in ReadOnlySequence<byte> nameArg, int mode, bool exclusive, out HostFile? f)
    {
        f = null;
        var r = new SequenceReader<byte>(nameArg);
        if (!r.TryReadTo(out ReadOnlySequence<byte> nameBytes, (byte)0) || nameBytes.IsEmpty) return -Errno.EINVAL;
        if (h.NodeId != FuseConst.RootId) return -Errno.ENOTDIR;
        var name = System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, nameBytes);
        f = Share[name];
        if (f != null) return exclusive ? -Errno.EEXIST : 0;
        f = Share.CreateFile(name);
        if (f == null) return -Errno.EIO;
        f.Mode = Fcntl.S_IFREG | (mode & 0xfff);
        return 0;
    }

    /// <summary>FUSE_UNLINK (lo_unlink → unlinkat): 0, −ENOENT for a missing name, −ENOTDIR for a parent other than the root.</summary>
    private void Unlink(in FuseInHeader h, in ReadOnlySequence<byte> args, PipeWriter w)
    {
        var r = new SequenceReader<byte>(args);
        int err;
        if (!r.TryReadTo(out ReadOnlySequence<byte> nameBytes, (byte)0)) err = -Errno.EINVAL;
        else if (h.NodeId != FuseConst.RootId) err = -Errno.ENOTDIR;
        else err = Share.Unlink(System.Text.EncodingExtensions.GetString(System.Text.Encoding.UTF8, nameBytes)) ? 0 : -Errno.ENOENT;
        FuseReplyWriter.Header(w, h.Unique, err);
    }
}
