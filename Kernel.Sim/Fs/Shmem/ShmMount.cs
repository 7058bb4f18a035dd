using KernelSim.Kernel;

namespace KernelSim.Fs;

/// <summary>
/// shm_mnt (mm/shmem.c shmem_init: kern_mount of the tmpfs type): the internal tmpfs, in no mount table, whose unlinked
/// inodes back memfd_create(2) (shmem_file_setup). One per machine, a singleton of the machine's container.
/// </summary>
internal sealed class ShmMount(Machine machine)
{
    /// <summary>The internal tmpfs instance.</summary>
    public TmpFs Fs { get; } = TmpFs.KernMount(machine);
}
