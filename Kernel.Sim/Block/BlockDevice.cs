using KernelSim.Dax;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Trace;
using KernelSim.Uapi;

namespace KernelSim.Block;

/// <summary>BLK_FEAT_* queue features (include/linux/blkdev.h, 6.11+ names; queue flags before).</summary>
[Flags]
public enum BlkFeatures
{
    /// <summary>No feature.</summary>
    None = 0,
    /// <summary>BLK_FEAT_WRITE_CACHE: the device has a volatile write cache (REQ_PREFLUSH is meaningful).</summary>
    BLK_FEAT_WRITE_CACHE = 1,
    /// <summary>BLK_FEAT_FUA: the device supports REQ_FUA.</summary>
    BLK_FEAT_FUA = 2,
    /// <summary>BLK_FEAT_DAX: the device supports BLK_FEAT_DAX (fs_dax_get_by_bdev succeeds).</summary>
    BLK_FEAT_DAX = 4,
    /// <summary>BLK_FEAT_SYNCHRONOUS: bios complete in the submitter's context (pmem, brd, zram).</summary>
    BLK_FEAT_SYNCHRONOUS = 8,
}

/// <summary>
/// struct gendisk + struct block_device (include/linux/blkdev.h) of a whole disk: the name ("pmem0"), the capacity
/// in 512-byte sectors, the queue limits, the driver's <see cref="IBlockDeviceOps"/>, the optional dax_device and
/// badblocks table, and the bdev inode whose page cache buffers /dev/NAME I/O. <see cref="SubmitBio"/> is
/// submit_bio_noacct + the driver's -&gt;submit_bio, completed synchronously.
/// </summary>
public sealed class BlockDevice
{
    /// <summary>SECTOR_SHIFT.</summary>
    public const int SECTOR_SHIFT = 9;

    /// <summary>SECTOR_SIZE.</summary>
    public const int SECTOR_SIZE = 512;

    private readonly Tracer _trace;

    /// <summary>blk_alloc_disk + set_capacity: a disk of <paramref name="capacitySectors"/> sectors served by <paramref name="ops"/>.</summary>
    public BlockDevice(Machine machine, string name, long capacitySectors, IBlockDeviceOps ops, uint logicalBlockSize = SECTOR_SIZE,
        uint physicalBlockSize = 4096)
    {
        if (logicalBlockSize < SECTOR_SIZE || (logicalBlockSize & (logicalBlockSize - 1)) != 0)
            throw new ArgumentException("logical block size must be a power of two ≥ 512", nameof(logicalBlockSize));
        Machine = machine;
        Name = name;
        CapacitySectors = Math.Max(0, capacitySectors);
        Ops = ops;
        LogicalBlockSize = logicalBlockSize;
        PhysicalBlockSize = Math.Max(physicalBlockSize, logicalBlockSize);
        _trace = machine.Tracer;
    }

    /// <summary>The machine.</summary>
    public Machine Machine { get; }

    /// <summary>disk_name ("pmem0").</summary>
    public string Name { get; }

    /// <summary>get_capacity(disk): size in 512-byte sectors.</summary>
    public long CapacitySectors { get; private set; }

    /// <summary>bdev_nr_bytes: the size in bytes.</summary>
    public long SizeBytes => CapacitySectors << SECTOR_SHIFT;

    /// <summary>queue_logical_block_size.</summary>
    public uint LogicalBlockSize { get; }

    /// <summary>queue_physical_block_size.</summary>
    public uint PhysicalBlockSize { get; }

    /// <summary>The driver's block_device_operations (wrapped by a <see cref="BlockDeviceInterceptor"/> at add_disk, if any).</summary>
    public IBlockDeviceOps Ops { get; internal set; }

    /// <summary>Queue features (write cache, FUA, DAX, synchronous).</summary>
    public BlkFeatures Features { get; set; } = BlkFeatures.BLK_FEAT_SYNCHRONOUS;

    /// <summary>MAJOR(disk_devt): BLOCK_EXT_MAJOR (259) for disks registered without a major, as pmem's are.</summary>
    public uint Major { get; internal set; }

    /// <summary>MINOR(disk_devt): the next free extended minor (blk_alloc_ext_minor), given by add_disk.</summary>
    public uint Minor { get; internal set; }

    /// <summary>The dax_device, when the driver supports DAX (fs_dax_get_by_bdev's result).</summary>
    public DaxDevice? Dax { get; set; }

    /// <summary>disk-&gt;bb: the badblocks table exported as /sys/block/NAME/badblocks (null when the driver has none).</summary>
    public Badblocks? Badblocks { get; set; }

    /// <summary>disk-&gt;private_data: the driver's device structure.</summary>
    public object? PrivateData { get; set; }

    /// <summary>get_start_sect(bdev): 0 for a whole disk (the offset fs_dax_get_by_bdev reports).</summary>
    public long StartSect => 0;

    /// <summary>bdev_read_only.</summary>
    public bool ReadOnly { get; set; }

    /// <summary>bdi ra_pages: readahead window in pages (VM_READAHEAD_PAGES = 128 KiB / 4 KiB).</summary>
    public int RaPages { get; set; } = 32;

    /// <summary>The bdev inode (created by <see cref="Genhd.AddDisk"/>): i_size and the block-device page cache.</summary>
    public BdevInode? Inode { get; internal set; }

    /// <summary>bdev-&gt;bd_holder: the exclusive opener (a mounted filesystem, or a file opened with O_EXCL), or null.</summary>
    public object? Holder { get; private set; }

    /// <summary>
    /// bd_prepare_to_claim + bd_finish_claiming (block/bdev.c): claim the device for <paramref name="holder"/>;
    /// −EBUSY when another holder has it (bd_may_claim), 0 when it is free or already this holder's.
    /// </summary>
    public int Claim(object holder)
    {
        ArgumentNullException.ThrowIfNull(holder);
        if (Holder != null && !ReferenceEquals(Holder, holder)) return -Errno.EBUSY;
        Holder = holder;
        return 0;
    }

    /// <summary>bd_end_claim: <paramref name="holder"/> gives the device up (nothing when it is not the holder).</summary>
    public void ReleaseClaim(object holder)
    {
        if (ReferenceEquals(Holder, holder)) Holder = null;
    }

    /// <summary>Open struct files of this disk (bd_openers).</summary>
    public int OpenCount { get; internal set; }

    /// <summary>Writeback errors recorded on the bdev mapping (an errseq_t counter: each failed writeback bumps it).</summary>
    public int WbErrSeq { get; internal set; }

    /// <summary>Bios submitted so far, in order (for inspection and tests).</summary>
    public IReadOnlyList<Bio> Submitted => _submitted;
    private readonly List<Bio> _submitted = [];

    /// <summary>
    /// Keep at most this many bios in <see cref="Submitted"/> for inspection (0, the default, keeps none). Opt-in: while
    /// bios are kept, O_DIRECT allocates a new bio per request instead of reusing the last completed one.
    /// </summary>
    public int KeepSubmitted { get; set; }

    /// <summary>
    /// set_init_blocksize (block/bdev.c): the bdev inode block size — the largest power of two from the logical block
    /// size up to PAGE_SIZE that divides the device size.
    /// </summary>
    public uint BlockSize
    {
        get
        {
            var bsize = LogicalBlockSize;
            while (bsize < Mm.PageDefs.PAGE_SIZE)
            {
                if ((SizeBytes & bsize) != 0) break;
                bsize <<= 1;
            }
            return bsize;
        }
    }

    /// <summary>set_capacity(disk, sectors) and bdev_set_nr_sectors (updates the bdev inode's i_size).</summary>
    public void SetCapacity(long sectors)
    {
        CapacitySectors = Math.Max(0, sectors);
        if (Inode != null) Inode.Size = SizeBytes;
    }

    /// <summary>
    /// submit_bio (block/blk-core.c submit_bio_noacct → __submit_bio → -&gt;submit_bio), completed synchronously:
    /// REQ_PREFLUSH/REQ_FUA on a read fail with BLK_STS_IOERR (the kernel WARNs); they are stripped when the device
    /// has no write cache (an empty flush then completes at once; bio-based drivers see REQ_FUA as is), and bio_check_eod fails a bio reaching past the capacity with
    /// BLK_STS_IOERR ("attempt to access beyond end of device"). Returns bi_status.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveInlining)]
    public BlkStatus SubmitBio(Bio bio)
    {
        ArgumentNullException.ThrowIfNull(bio);
        return _trace.Enabled ? SubmitBioTraced(bio) : SubmitBioBody(bio); // tracing off: no traced frame at all
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private BlkStatus SubmitBioTraced(Bio bio)
    {
        using var _ = _trace.Fn("submit_bio", "block");
        return SubmitBioBody(bio);
    }

    private BlkStatus SubmitBioBody(Bio bio)
    {
        bio.Bdev ??= this;
        if (KeepSubmitted > 0)
        {
            if (_submitted.Count >= KeepSubmitted) _submitted.RemoveAt(0);
            _submitted.Add(bio);
        }
        if ((bio.Flags & (BioFlags.REQ_PREFLUSH | BioFlags.REQ_FUA)) != 0 || bio.Op == BioOp.REQ_OP_FLUSH)
        {
            if (bio.Op == BioOp.REQ_OP_READ)
            {
                // WARN_ON_ONCE(op is not a write): the bio ends with the initial BLK_STS_IOERR.
                bio.Status = BlkStatus.BLK_STS_IOERR;
                bio.Endio();
                return bio.Status;
            }
            if ((Features & BlkFeatures.BLK_FEAT_WRITE_CACHE) == 0)
            {
                bio.Flags &= ~(BioFlags.REQ_PREFLUSH | BioFlags.REQ_FUA);
                if (bio.Sectors == 0)
                {
                    bio.Status = BlkStatus.BLK_STS_OK;
                    bio.Endio();
                    return bio.Status;
                }
            }
        }
        if (bio.Op != BioOp.REQ_OP_FLUSH && bio.Sectors > 0)
        {
            var max = CapacitySectors;
            var n = (long)bio.Sectors;
            if (bio.Sector < 0 || bio.Sector > max || n > max - bio.Sector) return BeyondEndOfDevice(bio, n, max);
        }
        Ops.SubmitBio(bio);
        if (!bio.Completed) bio.Endio();
        if (_trace.Enabled) _trace.Event("bio", bio.ToString());
        return bio.Status;
    }

    /// <summary>bio_check_eod's failure: the two printk lines, then the bio ends with BLK_STS_IOERR (out of line: cold).</summary>
    private BlkStatus BeyondEndOfDevice(Bio bio, long n, long max)
    {
        Machine.State.Printk("attempt to access beyond end of device");
        Machine.State.Printk($"{Name}: rw={(int)bio.Op}, sector={bio.Sector}, nr_sectors = {n} limit={max}");
        bio.Status = BlkStatus.BLK_STS_IOERR;
        bio.Endio();
        return bio.Status;
    }

    /// <summary>submit_bio_wait: submit and return blk_status_to_errno(bi_status).</summary>
    public int SubmitBioWait(Bio bio) => BlkErrors.BlkStatusToErrno(SubmitBio(bio));

    /// <summary>blkdev_issue_flush (block/blk-flush.c): an empty REQ_PREFLUSH write; 0 or -errno.</summary>
    public int IssueFlush() => SubmitBioWait(new Bio(this, BioOp.REQ_OP_WRITE, 0, BioFlags.REQ_PREFLUSH));

    /// <summary>disk_badblocks_show (block/genhd.c): /sys/block/NAME/badblocks; "" when the disk has no table.</summary>
    public string BadblocksShow() => Badblocks?.Show() ?? "";

    /// <summary>disk_badblocks_store: -ENXIO without a table, else badblocks_store(…, unack = 0).</summary>
    public long BadblocksStore(string text) => Badblocks == null ? -Errno.ENXIO : Badblocks.Store(text, unack: false);

    /// <summary>blkdev_open on a process-less kernel path: a struct file for this disk (setup and tests).</summary>
    public BlockDeviceFile OpenFile(int flags)
    {
        if (Inode == null) throw new InvalidOperationException($"{Name} was not added (Genhd.AddDisk)");
        return new BlockDeviceFile(Inode, flags);
    }

    /// <summary>The block-device page cache operations (readahead, read_folio, writeback) of this disk.</summary>
    internal BdevPageCache PageCache => _pageCache ??= new BdevPageCache(this);
    private BdevPageCache? _pageCache;

    /// <inheritdoc/>
    public override string ToString() => $"{Name} {CapacitySectors} sectors lbs={LogicalBlockSize}";
}
