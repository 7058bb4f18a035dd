namespace KernelSim.Drivers.Virtiofs;

/// <summary>The virtio-fs dax mount option (enum fuse_dax_mode, fs/fuse/fuse_i.h).</summary>
public enum DaxMountMode
{
    /// <summary>No option: FUSE_DAX_INODE_DEFAULT (per-inode DAX if the window and the server allow it).</summary>
    Default,
    /// <summary>"dax" (the legacy flag, v5.10+): FUSE_DAX_ALWAYS.</summary>
    Legacy,
    /// <summary>"dax=always" (5.17+).</summary>
    Always,
    /// <summary>"dax=never" (5.17+).</summary>
    Never,
    /// <summary>"dax=inode" (5.17+): FUSE_DAX_INODE_USER.</summary>
    Inode,
}
