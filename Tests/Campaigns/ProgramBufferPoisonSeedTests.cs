using KernelSim.Scenarios.Campaigns;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// Two seeds of campaigns/example.yaml that once ended as simulator bugs: a page the plan poisoned and then unmapped went
/// back to the page allocator with its latent poison (as in the kernel) and became a buffer of the program itself. Its
/// own store or load of that buffer takes SIGBUS BUS_MCEERR_AR, and that is what the step reports.
/// </summary>
public class ProgramBufferPoisonSeedTests
{
    private static List<OpRecord> Run(ulong seed) =>
        CampaignEngine.RunSeed(CampaignParser.ParseFile(RepoFiles.Path("campaigns/example.yaml")), seed).Records;

    [Test]
    public void Seed50368_IovecArrayStoredOnPoisonedFrame_ReadvStepIsSigbusAr_NoSimBug()
    {
        var records = Run(50368);

        Assert.That(records.Where(r => r.Outcome == Outcome.SimBug), Is.Empty);
        var readv = records.Single(r => r.Profile == "6.12" && r.Step == 9);
        Assert.That((readv.Call, readv.Ret, readv.Outcome, readv.Detail), Is.EqualTo((
            "readv([buf+0x4472:3464, buf+0x645b:3894, buf+0x5b0a:3099, buf+0x99f7:3321])", (long?)null, Outcome.SigbusAr,
            "SIGBUS BUS_MCEERR_AR si_addr=0x10000")));
    }

    [Test]
    public void Seed74109_NdctlReaddirBufferOnPoisonedFrame_BadblocksNotApplied_NoSimBug()
    {
        var records = Run(74109);

        Assert.That(records.Where(r => r.Outcome == Outcome.SimBug), Is.Empty);
        Assert.That(records.Where(r => r.Step == 6).Select(r => (r.Profile, r.Call, r.Outcome, r.Detail)), Is.EqualTo(new[]
        {
            ("4.17", "badblocks 24+8", Outcome.Injected, "not applied"),
            ("6.12", "badblocks 24+8", Outcome.Injected, "not applied"),
        }));
    }
}
