using KernelSim.Scenarios.Campaigns;
using KernelSim.Uapi;

namespace KernelSim.Tests.Campaigns;

/// <summary>The exact texts of plan and step descriptions (results.jsonl calls, plans.jsonl, plan ids) and of errno names.</summary>
public class PlanDescribeTests
{
    [Test]
    public void VectoredSteps_DescribeEverySegment_AndThePosition()
    {
        ulong[] segs = [0x10, 20, 0x1000, 4096];
        Assert.That(new PlanStep(StepKind.Readv, Segs: segs).Describe(), Is.EqualTo("readv([buf+0x10:20, buf+0x1000:4096])"));
        Assert.That(new PlanStep(StepKind.Writev, Segs: [0, 1]).Describe(), Is.EqualTo("writev([buf+0x0:1])"));
        Assert.That(new PlanStep(StepKind.Preadv, Pos: 512, Segs: segs).Describe(), Is.EqualTo("preadv([buf+0x10:20, buf+0x1000:4096], 512)"));
        Assert.That(new PlanStep(StepKind.Pwritev, Pos: 0).Describe(), Is.EqualTo("pwritev([], 0)"));
    }

    [Test]
    public void LongIovecList_OutgrowsTheStackBuffer_StillOneExactText()
    {
        var segs = new ulong[64];
        for (var i = 0; i < 32; i++)
        {
            segs[2 * i] = 0xfff0 + (ulong)i;
            segs[2 * i + 1] = 4096;
        }
        var text = new PlanStep(StepKind.Readv, Segs: segs).Describe();
        Assert.That(text, Does.StartWith("readv([buf+0xfff0:4096, buf+0xfff1:4096, "));
        Assert.That(text, Does.EndWith(", buf+0x1000f:4096])"));
        Assert.That(text.Split(", ").Length, Is.EqualTo(32));
    }

    [Test]
    public void Plan_Describe_WorkloadTimingKindsAndSteps()
    {
        var plan = new CampaignPlan(7, WorkloadKind.RamfsRw, true, [FaultKind.PoisonLine, FaultKind.McStorm],
            [new PlanStep(StepKind.PoisonBuffer, Off: 0x40), new PlanStep(StepKind.Read, Off: 0, Len: 1), new PlanStep(StepKind.Fsync)]);
        Assert.That(plan.Describe(), Is.EqualTo("ramfs work=manual kinds=[poison-line,mce-storm] | poison buf+0x40; read(buf+0x0, 1); fsync()"));
        Assert.That(plan.Id(), Is.EqualTo(CampaignPlan.IdOf(plan.Describe())));
        Assert.That(new CampaignPlan(1, WorkloadKind.Hostile, false, [], []).Describe(), Is.EqualTo("hostile kinds=[] |"));
    }

    [Test]
    public void ErrnoName_ByValueEitherSign_UnknownAsNumber()
    {
        Assert.That(Errno.Name(-Errno.EFAULT), Is.EqualTo("EFAULT"));
        Assert.That(Errno.Name(Errno.EHWPOISON), Is.EqualTo("EHWPOISON"));
        Assert.That(Errno.Name(-Errno.ENOIOCTLCMD), Is.EqualTo("ENOIOCTLCMD"));
        Assert.That(Errno.Name(-999), Is.EqualTo("E#999"));
        Assert.That(Errno.Name(0), Is.EqualTo("E#0"));
        Assert.That(Errno.Describe(-Errno.EINVAL), Is.EqualTo("-EINVAL (-22)"));
    }
}
