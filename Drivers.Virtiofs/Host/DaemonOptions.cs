namespace KernelSim.Drivers.Virtiofs.Host;

/// <summary>Settings of the host daemon (virtiofsd-like) and its front-end. Not a kernel type.</summary>
public sealed class DaemonOptions
{
    /// <summary>Attribute timeout in seconds (Rust virtiofsd: 0 cache=never, 1 auto (default), 86400 metadata/always).</summary>
    public ulong AttrTimeoutSeconds { get; set; } = 1;

    /// <summary>Entry (dentry) timeout in seconds.</summary>
    public ulong EntryTimeoutSeconds { get; set; } = 1;

    /// <summary>init_out.map_alignment: log2 of the required foffset/moffset alignment (12 = page; &gt; 21 fails INIT).</summary>
    public ushort MapAlignment { get; set; } = 12;

    /// <summary>Whether the daemon acknowledges FUSE_HAS_INODE_DAX when the kernel offers it.</summary>
    public bool InodeDax { get; set; } = true;

    /// <summary>
    /// Non-zero: SETUPMAPPING is refused with this (negative) errno — −22 for a front-end without slave-channel
    /// support (kata #2307), −38 for a stub.
    /// </summary>
    public int SetupMappingError { get; set; }

    /// <summary>
    /// Whether the daemon implements FUSE_CREATE (virtiofsd does). Off, CREATE is answered −ENOSYS like a server
    /// without a create handler, and the guest falls back to FUSE_MKNOD + FUSE_OPEN (fc-&gt;no_create).
    /// </summary>
    public bool Create { get; set; } = true;

    /// <summary>init_out.max_write.</summary>
    public uint MaxWrite { get; set; } = 1 << 20;

    /// <summary>
    /// Whether the front-end serves descriptors that point into the DAX window (Cloud Hypervisor's FS_IO slave
    /// message / the proposed MEM_READ/MEM_WRITE). Without it such a request cannot be completed (Rust virtiofsd
    /// panicked, libkrun reported QueueReader(FindMemoryRegion)).
    /// </summary>
    public bool WindowDescriptorIo { get; set; }

    /// <summary>Largest request the daemon accepts (virtiofsd MAX_BUFFER_SIZE: 1 MiB + one page); larger → −ENOMEM.</summary>
    public uint MaxBufferSize { get; set; } = (1 << 20) + 4096;
}
