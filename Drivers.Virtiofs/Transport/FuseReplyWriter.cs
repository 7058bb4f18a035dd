using System.Buffers.Binary;
using System.IO.Pipelines;
using KernelSim.Drivers.Virtiofs.Protocol;

namespace KernelSim.Drivers.Virtiofs.Transport;

/// <summary>
/// One used element written in place in the used ring's memory: <c>u32 len | fuse_out_header | args</c>. The device
/// reserves room for the largest reply (<see cref="Args"/>), fills what it answers and commits; nothing is visible
/// to the driver before <see cref="Commit"/> (and the transport's flush). Not a kernel type.
/// </summary>
internal readonly ref struct FuseReplyWriter
{
    private const int Prefix = 4 + FuseConst.OutHeaderSize;
    private readonly PipeWriter _w;
    private readonly Span<byte> _s;

    /// <summary>Reserve an element with room for <paramref name="maxArgs"/> argument bytes (pipe memory, not zeroed).</summary>
    public FuseReplyWriter(PipeWriter w, int maxArgs)
    {
        _w = w;
        _s = w.GetSpan(Prefix + maxArgs)[..(Prefix + maxArgs)];
    }

    /// <summary>The reply arguments after the out header.</summary>
    public Span<byte> Args => _s[Prefix..];

    /// <summary>
    /// Write the element length and fuse_out_header (len = 16 + <paramref name="argBytes"/> unless
    /// <paramref name="outLen"/> says otherwise, e.g. READ data placed in guest pages) and publish the element.
    /// </summary>
    public void Commit(ulong unique, int error, int argBytes, uint? outLen = null)
    {
        var len = FuseConst.OutHeaderSize + argBytes;
        BinaryPrimitives.WriteUInt32LittleEndian(_s, (uint)len);
        new FuseOutHeader(outLen ?? (uint)len, error, unique).Write(_s[4..]);
        _w.Advance(4 + len);
    }

    /// <summary>A reply that is only a fuse_out_header (errors, and requests without reply arguments).</summary>
    public static void Header(PipeWriter w, ulong unique, int error, uint? outLen = null) => new FuseReplyWriter(w, 0).Commit(unique, error, 0, outLen);
}
