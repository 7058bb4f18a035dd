namespace KernelSim.Block;

/// <summary>struct block_device_operations (include/linux/blkdev.h): what a bio-based driver provides.</summary>
public interface IBlockDeviceOps
{
    /// <summary>
    /// -&gt;submit_bio(bio): process the bio, set bi_status and call <see cref="Bio.Endio"/>. Bio-based drivers
    /// (pmem, brd) complete synchronously in this model.
    /// </summary>
    void SubmitBio(Bio bio);
}
