using KernelSim.Scenarios.Campaigns;

namespace KernelSim.Tests.Campaigns;

/// <summary>The final check of media poison: which lines must still be poisoned, which must be clean, which may be either.</summary>
public class PoisonModelTests
{
    private static List<string> Check(PoisonModel m, params ulong[] poisonedNow)
    {
        var mismatches = new List<string>();
        m.Check(off => poisonedNow.Contains(off), _ => false, mismatches);
        return mismatches;
    }

    [Test]
    public void InjectedLine_MustStillBePoisoned_WhenNothingWroteNearIt()
    {
        var m = new PoisonModel();
        m.Injected(4100, step: 2);
        Assert.That(Check(m, 4096), Is.Empty);
        Assert.That(Check(m), Is.EqualTo(new[] { "media line at file/device offset 4096 holds no poison, but nothing was written near it since step 2 poisoned it" }));
    }

    [Test]
    public void LineNobodyPoisoned_MustBeClean()
    {
        Assert.That(Check(new PoisonModel(), 640), Is.EqualTo(new[] { "media line at file/device offset 640 is poisoned, but no step poisoned it" }));
    }

    [Test]
    public void WriteNearAPoisonedLine_MakesItEither_OnlyWithinTheGranule()
    {
        var m = new PoisonModel();
        m.Injected(1024, 0);
        m.Injected(4096, 0);
        m.Touched(512, 1, step: 1, granule: 512); // sector 1: bytes 512..1023, not line 1024
        Assert.That(Check(m, 4096), Has.Count.EqualTo(1).And.Some.Contains("offset 1024"));
        m.Touched(0, 1, step: 2, granule: 4096); // page 0: line 1024 may have been cleared
        Assert.That(Check(m, 4096), Is.Empty);
        Assert.That(Check(m, 1024, 4096), Is.Empty);
    }

    [Test]
    public void CompletedWriteOverAKnownBadSector_MustLeaveItClean()
    {
        var m = new PoisonModel();
        m.Injected(1024, 0);
        m.Touched(1024, 512, step: 3, granule: 512);
        m.Cleared(1024, 512, step: 3);
        Assert.That(Check(m), Is.Empty);
        Assert.That(Check(m, 1088), Is.EqualTo(new[] { "media line at file/device offset 1088 is still poisoned after step 3 completed a write over its known-bad sector" }));
    }

    [Test]
    public void ReinjectedAfterAClear_MustBePoisonedAgain()
    {
        var m = new PoisonModel();
        m.Cleared(0, 64, step: 1);
        m.Injected(0, step: 5);
        Assert.That(Check(m, 0), Is.Empty);
        Assert.That(Check(m), Has.Count.EqualTo(1));
    }
}
