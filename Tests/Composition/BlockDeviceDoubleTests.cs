using KernelSim.Block;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;
using Moq;

namespace KernelSim.Tests.Composition;

/// <summary>
/// The block-device seam (<see cref="IBlockDeviceOps"/>) replaced by a Moq double added with
/// <see cref="BlockBuilderExtensions.AddDisk"/>: read(2) with O_DIRECT on /dev/vdb goes through blkdev_direct_IO and
/// submit_bio to the double, and the bio it fails comes back as -EIO for exactly that request.
/// </summary>
public class BlockDeviceDoubleTests
{
    private static byte Pattern(long sector, int i) => (byte)(sector * 31 + i);

    [Test]
    public void ODirectRead_TheThirdBioFails_ThirdReadIsEio_TheFirstTwoSucceed()
    {
        Machine? m = null;
        var bios = new List<(BioOp Op, long Sector, ulong Size)>();
        var disk = new Mock<IBlockDeviceOps>(MockBehavior.Strict);
        disk.Setup(d => d.SubmitBio(It.IsAny<Bio>())).Callback((Bio bio) =>
        {
            bios.Add((bio.Op, bio.Sector, bio.Size));
            if (bios.Count == 3) bio.Status = BlkStatus.BLK_STS_IOERR;
            else
            {
                var at = 0;
                foreach (var v in bio.Vecs)
                {
                    var data = Enumerable.Range(at, (int)v.Len).Select(i => Pattern(bio.Sector, i)).ToArray();
                    m!.Phys.PokeBytes(new PhysAddr((v.Pfn << PageDefs.PAGE_SHIFT) + v.Offset), data);
                    at += (int)v.Len;
                }
                bio.Status = BlkStatus.BLK_STS_OK;
            }
            bio.Endio();
        });
        m = new MachineBuilder().AddDisk("vdb", 2048, disk.Object).Build();
        var p = m.Spawn("app");
        var u = p.MapAnonymous(4096);
        var fd = (int)p.Open("/dev/vdb", Fcntl.O_RDONLY | Fcntl.O_DIRECT);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));

        Assert.That(p.Read(fd, u, 4096), Is.EqualTo(4096));
        Assert.That(p.Read(fd, u, 4096), Is.EqualTo(4096));
        var got = new byte[4096];
        Assert.That(p.Load(u, got).Done, Is.EqualTo(4096UL));
        Assert.That(got, Is.EqualTo(Enumerable.Range(0, 4096).Select(i => Pattern(8, i)).ToArray()), "the second read holds sectors 8..15");
        Assert.That(p.Read(fd, u, 4096), Is.EqualTo(-Errno.EIO), "blk_status_to_errno(BLK_STS_IOERR)");

        Assert.That(bios, Is.EqualTo(new[] { (BioOp.REQ_OP_READ, 0L, 4096UL), (BioOp.REQ_OP_READ, 8L, 4096UL), (BioOp.REQ_OP_READ, 16L, 4096UL) }));
        disk.Verify(d => d.SubmitBio(It.IsAny<Bio>()), Times.Exactly(3));
    }
}
