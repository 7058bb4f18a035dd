using KernelSim.Scenarios.Crosscheck;

namespace KernelSim.Tests.Crosscheck;

/// <summary>Reading the guest's serial console back.</summary>
public class GuestOutputTests
{
    private const string Console = "SeaBIOS (version 1.16.2)\n\u001b[2J@@KS-BEGIN\r\n@@KS 1 begin\n@@KS 1 ret=16\n@@KS 1 end\n"
        + "@@KS 2 begin\n@@KS 2 signal=11 code=2 addr=buf+0x1008 lsb=0\n@@KS 2 ret=0\n@@KS 2 end\n"
        + "@@KS 3 begin\n@@KS 3 note=8 1\n@@KS 3 note=16 8\n@@KS 3 ret=2\n@@KS 3 end\n"
        + "@@KS 4 begin\n@@KS 4 ret=-5\n@@KS 4 end\n@@KS 5 begin\n@@KS 5 signal=7 code=4 addr=buf+0x3000 lsb=12\n"
        + "@@KS exit signal=7\n@@KS-END\n[    5.7] reboot: Power down\n@@KS 9 begin\n";

    [Test]
    public void Parse_StepsSignalsNotesAndExit()
    {
        var o = GuestOutput.Parse(Console);
        Assert.That(o.Started && o.Finished, Is.True);
        Assert.That(o.Steps.Keys, Is.EqualTo(new[] { 1, 2, 3, 4, 5 }));   // nothing after @@KS-END counts
        Assert.That(o.Steps[1].Ret, Is.EqualTo(16));
        Assert.That(o.Steps[2].Signals, Is.EqualTo(new[] { (11, 2, "buf+0x1008", 0) }));
        Assert.That(o.Steps[3].Notes, Is.EqualTo(new[] { "8 1", "16 8" }));
        Assert.That(o.Steps[4].Ret, Is.EqualTo(-5));
        Assert.That(o.Steps[5].Ret, Is.Null);
        Assert.That(o.KilledBy, Is.EqualTo(7));
        Assert.That(o.LastBegun, Is.EqualTo(5));
        Assert.That(o.Panic, Is.Null);
    }

    [Test]
    public void Parse_PanicAndSetupErrors()
    {
        var o = GuestOutput.Parse("@@KS setup-error /dev/pmem0 did not appear\n@@KS-BEGIN\n@@KS 1 begin\n[ 3.1] Kernel panic - not syncing: Fatal machine check\n");
        Assert.That(o.SetupErrors, Is.EqualTo(new[] { "/dev/pmem0 did not appear" }));
        Assert.That(o.Panic, Is.EqualTo("Fatal machine check"));
        Assert.That(o.Finished, Is.False);
        Assert.That(o.LastBegun, Is.EqualTo(1));
    }
}
