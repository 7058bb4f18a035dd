using KernelSim.Uapi;

namespace KernelSim.Mm;

/// <summary>A vm_area_struct: [Start, End) with protections and what backs it.</summary>
public sealed class Vma
{
    /// <summary>First address (page aligned).</summary>
    public ulong Start { get; internal set; }
    /// <summary>One past the last address (page aligned).</summary>
    public ulong End { get; internal set; }
    /// <summary>PROT_* bits.</summary>
    public int Prot { get; internal set; }
    /// <summary>MAP_SHARED (true) or MAP_PRIVATE.</summary>
    public bool Shared { get; internal init; }
    /// <summary>Backing shmem object for shared anonymous / memfd mappings.</summary>
    public ShmemObject? Shmem { get; internal init; }
    /// <summary>vm_ops: set by the file's -&gt;mmap for file-backed mappings (DAX and friends).</summary>
    public IVmOperations? VmOps { get; set; }
    /// <summary>VM_SYNC: mapped with MAP_SYNC, whatever the type (calc_vm_flag_bits); synchronous DAX faults.</summary>
    public bool VmSync { get; internal init; }
    /// <summary>Page offset of <see cref="Start"/> in the backing object (vm_pgoff).</summary>
    public ulong PgOff { get; internal set; }
    /// <summary>Opaque owner data for file-backed mappings (the struct file).</summary>
    public object? File { get; internal init; }

    /// <summary>VM_HUGEPAGE: set by a filesystem's -&gt;mmap for DAX files (ext4/XFS), shown as "hg" in smaps VmFlags.</summary>
    public bool VmHugepage { get; set; }

    /// <summary>VM_ACCOUNT: a private writable mapping charged to the commit limit (at mmap, or when mprotect adds write).</summary>
    internal bool Account { get; set; }

    /// <summary>True for private anonymous memory.</summary>
    public bool IsAnonymous => Shmem == null && VmOps == null;

    internal bool MayRead => (Prot & (Mman.PROT_READ | Mman.PROT_WRITE | Mman.PROT_EXEC)) != 0;
    internal bool MayWrite => (Prot & Mman.PROT_WRITE) != 0;

    internal Vma CloneRange(ulong start, ulong end) => new()
    {
        Start = start,
        End = end,
        Prot = Prot,
        Shared = Shared,
        Shmem = Shmem,
        VmOps = VmOps,
        File = File,
        VmSync = VmSync,
        VmHugepage = VmHugepage,
        Account = Account,
        PgOff = PgOff + ((start - Start) >> PageDefs.PAGE_SHIFT),
    };

    /// <inheritdoc/>
    public override string ToString() => $"{Start:x}-{End:x} prot={Prot} {(Shared ? "shared" : "private")}";
}
