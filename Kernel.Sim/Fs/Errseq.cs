namespace KernelSim.Fs;

/// <summary>
/// errseq_t (lib/errseq.c): a 32-bit error cursor — the low 12 bits hold the last −errno, bit 12 (ERRSEQ_SEEN) says
/// someone has sampled it, and the bits above are a counter that moves only when a new error follows a seen one. A
/// mapping's wb_err is one; every struct file keeps the value it last saw (f_wb_err), so each open file is told of a
/// write-back error once.
/// </summary>
public struct Errseq
{
    private const uint MaxErrno = 4095;
    private const uint ErrseqSeen = 1u << 12;
    private const uint ErrseqCtrInc = 1u << 13;

    /// <summary>The raw errseq_t value.</summary>
    public uint Value { get; private set; }

    /// <summary>errseq_set(eseq, err): record −errno <paramref name="err"/>; returns the new value (0 for err 0).</summary>
    public uint Set(int err)
    {
        if (err == 0 || -err > MaxErrno) return 0;
        var old = Value;
        var next = (old & ~(MaxErrno | ErrseqSeen)) | (uint)-err;
        if ((old & ErrseqSeen) != 0) next += ErrseqCtrInc;
        Value = next;
        return next;
    }

    /// <summary>errseq_sample: the value to remember; 0 when nobody has seen the current error, so the sampler reports it once.</summary>
    public readonly uint Sample() => (Value & ErrseqSeen) == 0 ? 0 : Value;

    /// <summary>errseq_check(eseq, since): 0 when nothing happened since <paramref name="since"/>, else the −errno.</summary>
    public readonly int Check(uint since) => Value == since ? 0 : -(int)(Value & MaxErrno);

    /// <summary>errseq_check_and_advance(eseq, &amp;since): report a new error once (marking it seen) and move the cursor.</summary>
    public int CheckAndAdvance(ref uint since)
    {
        var old = Value;
        if (old == since) return 0;
        var next = old | ErrseqSeen;
        Value = next;
        since = next;
        return -(int)(next & MaxErrno);
    }
}
