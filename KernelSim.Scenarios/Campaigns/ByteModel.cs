namespace KernelSim.Scenarios.Campaigns;

/// <summary>The oracle's view of a byte range: what each byte must be, or "unknown" (not checked).</summary>
internal sealed class ByteModel
{
    private readonly byte[] _data;
    private readonly bool[] _known;

    public ByteModel(byte[] initial)
    {
        _data = (byte[])initial.Clone();
        _known = new bool[initial.Length];
        Array.Fill(_known, true);
    }

    public int Size => _data.Length;

    public bool TryGet(ulong i, out byte b)
    {
        b = 0;
        if (i >= (ulong)_data.Length || !_known[i]) return false;
        b = _data[i];
        return true;
    }

    public void Set(ulong i, byte b)
    {
        if (i >= (ulong)_data.Length) return;
        _data[i] = b;
        _known[i] = true;
    }

    public void Forget(ulong i)
    {
        if (i < (ulong)_data.Length) _known[i] = false;
    }

    public void Forget(ulong from, ulong len)
    {
        for (ulong k = 0; k < len && from + k < (ulong)_data.Length; k++) _known[from + k] = false;
    }

    /// <summary>Deterministic content for a seed: xoshiro256** output bytes.</summary>
    public static byte[] Pattern(ulong seed, ulong salt, int len)
    {
        var rng = new KernelSim.Lib.SimRandom(seed ^ salt);
        var b = new byte[len];
        for (var i = 0; i < len; i += 8)
        {
            var v = rng.NextUInt64();
            for (var k = 0; k < 8 && i + k < len; k++) b[i + k] = (byte)(v >> (8 * k));
        }
        return b;
    }
}
