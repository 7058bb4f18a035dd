namespace KernelSim.Mm;

/// <summary>A user virtual address (a <c>void __user *</c>). Distinct from <see cref="KernelPtr"/> so the two cannot be mixed.</summary>
public readonly record struct UserPtr(ulong Value) : IComparable<UserPtr>
{
    public static UserPtr operator +(UserPtr p, ulong n) => new(unchecked(p.Value + n));
    public static UserPtr operator +(UserPtr p, long n) => new(unchecked(p.Value + (ulong)n));
    public static UserPtr operator -(UserPtr p, ulong n) => new(unchecked(p.Value - n));
    public static ulong operator -(UserPtr a, UserPtr b) => unchecked(a.Value - b.Value);
    public static bool operator <(UserPtr a, UserPtr b) => a.Value < b.Value;
    public static bool operator >(UserPtr a, UserPtr b) => a.Value > b.Value;
    public static bool operator <=(UserPtr a, UserPtr b) => a.Value <= b.Value;
    public static bool operator >=(UserPtr a, UserPtr b) => a.Value >= b.Value;
    /// <inheritdoc/>
    public int CompareTo(UserPtr other) => Value.CompareTo(other.Value);
    /// <inheritdoc/>
    public override string ToString() => $"0x{Value:x}";
}

/// <summary>A kernel virtual address (direct map or vmalloc/ioremap space).</summary>
public readonly record struct KernelPtr(ulong Value)
{
    public static KernelPtr operator +(KernelPtr p, ulong n) => new(unchecked(p.Value + n));
    public static KernelPtr operator +(KernelPtr p, long n) => new(unchecked(p.Value + (ulong)n));
    public static ulong operator -(KernelPtr a, KernelPtr b) => unchecked(a.Value - b.Value);
    /// <summary>__va(): the direct-map address of a physical address.</summary>
    public static KernelPtr FromPhys(PhysAddr pa) => new(PageDefs.PAGE_OFFSET + pa.Value);
    /// <inheritdoc/>
    public override string ToString() => $"0x{Value:x}";
}

/// <summary>A physical address.</summary>
public readonly record struct PhysAddr(ulong Value)
{
    public static PhysAddr operator +(PhysAddr p, ulong n) => new(p.Value + n);
    /// <summary>Page frame number.</summary>
    public ulong Pfn => Value >> PageDefs.PAGE_SHIFT;
    public static PhysAddr FromPfn(ulong pfn) => new(pfn << PageDefs.PAGE_SHIFT);
    /// <inheritdoc/>
    public override string ToString() => $"0x{Value:x}";
}
