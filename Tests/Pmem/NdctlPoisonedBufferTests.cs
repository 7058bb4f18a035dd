using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// A user program's own buffer can sit on a frame with latent poison (a frame freed by munmap while its poison was still
/// undetected goes back to the page allocator, as in the kernel): the program's load of it takes SIGBUS BUS_MCEERR_AR
/// and the default action kills it. Found by campaigns/example.yaml seed 74109, where ndctl's readdir buffer got such a
/// frame and the simulator parsed the unread bytes.
/// </summary>
public class NdctlPoisonedBufferTests
{
    private static PhysAddr PaOf(Process p, UserPtr va) =>
        new((p.Mm.PfnAt(va.Value)!.Value << PageDefs.PAGE_SHIFT) | PageDefs.OffsetInPage(va.Value));

    [Test]
    public void UserLibListDir_ScratchLinePoisoned_NoReturn_KilledBySigbusMceerrAr()
    {
        var s = new PmemScenario();
        var p = s.M.Spawn("ls");
        Assert.That(p.ListDir("/sys/class/nd", out var first), Is.Zero);
        Assert.That(first, Is.EqualTo(new[] { "ndctl0" }));
        var scratch = p.UserLibScratch!.Value;
        s.M.InjectPoison(PaOf(p, scratch + 0x40UL));

        var r = p.ListDir("/sys/class/nd", out var names);

        Assert.That(r, Is.EqualTo(Machine.NoReturn));
        Assert.That(names, Is.Empty, "nothing parsed from a buffer the load did not finish");
        Assert.That(p.Alive, Is.False);
        Assert.That(p.KilledBy, Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, scratch.Value, 12, true)));
    }

    [Test]
    public void NdctlInjectError_ReaddirBufferPoisoned_EndsWithStatus135_NothingInjected()
    {
        var s = new PmemScenario();
        var ndctl = s.M.Spawn("ndctl");
        Assert.That(Ndctl.Run(ndctl, "inject-error --status namespace0.0").Rc, Is.Zero);
        s.M.InjectPoison(PaOf(ndctl, ndctl.UserLibScratch!.Value));

        var r = Ndctl.Run(ndctl, "inject-error namespace0.0 -B 8 -n 1");

        Assert.That(r, Is.EqualTo(new NdctlResult(128 + Sig.SIGBUS, "", "")));
        Assert.That(ndctl.KilledBy?.Signo, Is.EqualTo(Sig.SIGBUS));
        Assert.That(s.Badblocks, Is.EqualTo(""), "the program died before it injected anything");
    }
}
