using KernelSim.Dax;
using KernelSim.Drivers.Virtiofs.Guest;
using KernelSim.Drivers.Virtiofs.Host;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Fs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs;

/// <summary>
/// One virtio-fs device on a machine with everything behind it: the host directory (<see cref="Host"/>, the other
/// party's API), the VMM owning the DAX window, the daemon, the virtqueues with their message log, and — once
/// mounted — the guest filesystem. Also the system calls the core does not have for this filesystem
/// (stat, ftruncate, truncate, mmap of a file).
/// </summary>
public sealed class VirtioFsShare
{
    internal VirtioFsShare(Machine machine, VirtioFsOptions options, HostMemory mem, FsDax fsDax, IVirtioFsBackend backend)
    {
        Machine = machine;
        Options = options;
        FsDax = fsDax;
        Host = new HostShare(mem);
        if (options.WindowBytes > 0)
        {
            var bytes = PageDefs.PageAlign(options.WindowBytes);
            Window = machine.Phys.Register(new PhysAddr(options.WindowGpa), bytes, MemoryKind.DeviceWindow, $"virtio-fs {options.Tag} cache window");
            Vmm = new VirtioFsVmm(bytes, options.HostFaultPolicy);
            machine.Phys.SetWindowHandler(Window, Vmm);
        }
        Daemon = new VirtioFsDaemon(Host, Vmm, options.Daemon, machine.Phys, machine.Dram, Window);
        Transport = new VirtioFsTransport(backend.Connect(Daemon, options));
        Daemon.Transport = Transport;
    }

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>The options it was created with.</summary>
    public VirtioFsOptions Options { get; }

    /// <summary>Simulated time for attribute/entry timeouts: the machine's <see cref="Machine.Clock"/>.</summary>
    public IClockSource Clock => Machine.Clock;

    /// <summary>fs/dax.c, for the DAX I/O paths.</summary>
    internal FsDax FsDax { get; }

    /// <summary>The shared host directory and the other party's operations on it.</summary>
    public HostShare Host { get; }

    /// <summary>The VMM side of the window (null without a window).</summary>
    public VirtioFsVmm? Vmm { get; }

    /// <summary>The daemon.</summary>
    public VirtioFsDaemon Daemon { get; }

    /// <summary>The virtqueues and the FUSE message log.</summary>
    public VirtioFsTransport Transport { get; }

    /// <summary>The window's guest-physical range (null without a window).</summary>
    public PhysRange? Window { get; }

    /// <summary>The dax_device (null until mounted with DAX, or without a window).</summary>
    public DaxDevice? DaxDevice { get; private set; }

    /// <summary>The mounted filesystem (null before <see cref="Mount"/>).</summary>
    public VirtioFsFileSystem? Fs { get; private set; }

    /// <summary>The FUSE message log.</summary>
    public IReadOnlyList<FuseMessage> Log => Transport.Log;

    /// <summary>The full guest path of a file in the share.</summary>
    public string PathOf(string name) => Options.MountPoint.TrimEnd('/') + "/" + name;

    /// <summary>
    /// mount -t virtiofs tag mountpoint -o &lt;dax option&gt; (virtio_fs_get_tree, virtio_fs_fill_super): checks the tag,
    /// the option against the release, DAX against the window, sets up the range pool, sends INIT and mounts.
    /// 0 or −errno (−EINVAL for a bad tag, an unknown option, or dax=always without a window; −EBUSY for a taken
    /// mount point).
    /// </summary>
    public int Mount()
    {
        if (Fs != null) return -Errno.EBUSY;
        var m = Machine;
        var tag = Options.Tag ?? "";
        if (tag.Length == 0 || tag.Contains('\n') || System.Text.Encoding.UTF8.GetByteCount(tag) > 36) return -Errno.EINVAL;
        var mode = Options.Dax;
        if (!m.Profile.VirtioFsDaxModes && mode is DaxMountMode.Always or DaxMountMode.Never or DaxMountMode.Inode)
        {
            m.State.Printk($"virtiofs: Unknown parameter 'dax'");
            return -Errno.EINVAL;
        }
        if (!m.Profile.VirtioFsDaxModes && mode == DaxMountMode.Default) mode = DaxMountMode.Never; // no per-inode DAX before 7.36
        if (Window == null) m.State.Printk($"virtio-fs: {tag}: No cache capability");
        if (mode is DaxMountMode.Always or DaxMountMode.Legacy && Window == null)
        {
            m.State.Printk("virtio-fs: dax can't be enabled as filesystem device does not support it");
            return -Errno.EINVAL;
        }
        var conn = new FuseConn(m, Transport, Options.StrictReplies);
        FuseConnDax? dax = null;
        if (Window != null && mode != DaxMountMode.Never)
        {
            var ops = new VirtioFsDaxOps(m, Window);
            DaxDevice = new DaxDevice($"virtiofs-{tag}", ops, m.IovIter, m.Profile, m.Tracer);
            if (Options.HostFaultPolicy == HostFaultPolicy.ProposedMachineCheck)
            {
                // the what-if: virtio_fs would opt into machine-check-safe reads (as pmem does with set_dax_nomc)
                DaxDevice.Flags |= DaxDevFlags.DAXDEV_NOMC;
                Window.Pagemap = new WindowPagemap(m, Window);
            }
            dax = new FuseConnDax(m, conn, DaxDevice, Window, Window.Size);
        }
        var fs = new VirtioFsFileSystem(m, this, conn, mode, dax, Options.PinUserPages);
        var r = fs.SendInit(Window != null);
        if (r < 0) return r;
        r = m.Vfs.Mount(fs, Options.MountPoint);
        if (r < 0) return r;
        Fs = fs;
        return 0;
    }

    /// <summary>umount: inode cleanup (REMOVEMAPPING), FORGET on hiprio, DESTROY.</summary>
    public void Unmount()
    {
        if (Fs == null) return;
        Machine.Run(() =>
        {
            Fs.Kill();
            return 0;
        });
    }

    private VirtioFsFileSystem? FsFor(Process p, string path, out string rest)
    {
        rest = "";
        if (Machine.Vfs.Resolve(path, out var fs, out rest) < 0) return null;
        return fs as VirtioFsFileSystem;
    }

    /// <summary>stat(2) on a file of this share: the size (revalidating the dentry and, after the attribute timeout, GETATTR), or −errno.</summary>
    public long Stat(Process p, string path) => Machine.Syscall(p, "sys_newstat", () =>
    {
        var fs = FsFor(p, path, out var rest);
        if (fs == null) return -Errno.ENOENT;
        var r = fs.LookupInode(rest, out var inode);
        if (r < 0) return r;
        r = fs.UpdateAttributes(inode!);
        return r < 0 ? r : inode!.Size;
    });

    /// <summary>ftruncate(2): 0 or −errno (SETATTR with FATTR_FH).</summary>
    public long Ftruncate(Process p, int fd, long size) => Machine.Syscall(p, "sys_ftruncate", () =>
    {
        if (size < 0) return -Errno.EINVAL;
        if (p.FileAt(fd) is not FuseFile f) return p.FileAt(fd) == null ? -Errno.EBADF : -Errno.EINVAL;
        if ((f.Mode & KFile.FMODE_WRITE) == 0) return -Errno.EINVAL;
        return ((FuseInode)f.Inode).Fs.Setattr((FuseInode)f.Inode, size, f.Fh);
    });

    /// <summary>truncate(2) by path: 0 or −errno (SETATTR without a file handle).</summary>
    public long Truncate(Process p, string path, long size) => Machine.Syscall(p, "sys_truncate", () =>
    {
        if (size < 0) return -Errno.EINVAL;
        var fs = FsFor(p, path, out var rest);
        if (fs == null) return -Errno.ENOENT;
        var r = fs.LookupInode(rest, out var inode);
        return r < 0 ? r : fs.Setattr(inode!, size, 0);
    });

    /// <summary>
    /// mmap(2) of an open file of this share: the process's mmap, whose call_mmap reaches <see cref="FuseFile.Mmap"/>
    /// (fuse_file_mmap → fuse_dax_mmap for S_DAX inodes). The address, or −errno (−EBADF, −EINVAL, −EACCES, −ENODEV
    /// for a non-DAX file: page cache mappings of FUSE files are not modelled).
    /// </summary>
    public long Mmap(Process p, ulong len, int prot, int flags, int fd, long offset = 0) => p.Mmap(0, len, prot, flags, fd, offset);
}
