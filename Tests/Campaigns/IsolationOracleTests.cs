using KernelSim.Tests.Infrastructure;
using KernelSim.Arch.X86;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Scenarios.Campaigns;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// The isolation oracle: canary patterns and their scan, and a leak planted through the ICopyRoutines seam (a
/// copy_to_user that reads the wrong kernel page: the one holding the kernel canary) caught as <see cref="Outcome.Leak"/>
/// in a hostile seed; the hostile data oracle catches a dropped byte in the same read.
/// </summary>
public class IsolationOracleTests
{
    [Test]
    public void Pattern_IsMagicThenTag_AndFindReportsOffsetAndArea()
    {
        var p = IsolationOracle.Pattern(IsolationOracle.OtherProcess, 32);
        Assert.That(BitConverter.ToUInt64(p, 0), Is.EqualTo(IsolationOracle.Magic));
        Assert.That(BitConverter.ToUInt64(p, 8), Is.EqualTo(0xC0DE_0200_0000_0000UL));
        Assert.That(BitConverter.ToUInt64(p, 24), Is.EqualTo(0xC0DE_0200_0000_0001UL));

        var data = new byte[100];
        p.AsSpan(5, 23).CopyTo(data.AsSpan(40)); // 23 bytes from an unaligned start hold a whole magic
        Assert.That(IsolationOracle.Find(data), Is.EqualTo(((int Offset, string Area)?)(51, "a canary")), "the tag after it is cut: area unknown");
        p.AsSpan(0, 32).CopyTo(data.AsSpan(60));
        Assert.That(IsolationOracle.Find(data.AsSpan(56)), Is.EqualTo(((int Offset, string Area)?)(4, "another process")));
        Assert.That(IsolationOracle.Find(new byte[4096]), Is.Null);
        Assert.That(IsolationOracle.WordArea(0xC0DE_0100_0000_0007UL), Is.EqualTo("kernel memory"));
        Assert.That(IsolationOracle.WordArea(IsolationOracle.Magic), Is.EqualTo("a canary"));
        Assert.That(IsolationOracle.WordArea(4096), Is.Null);
    }

    /// <summary>One hostile call: read(fd 0, buf, 4096) (Fds[1] is 0).</summary>
    private static CampaignPlan ReadFd0IntoBuffer() =>
        new(1, WorkloadKind.Hostile, false, [], [new PlanStep(StepKind.Hostile, Raw: [0, 0xA000_0000_0000_0001, 4096, 0, 0, 0, 1])]);

    private static CampaignSpec Spec(Action<MachineBuilder>? plant = null) => CampaignParser.ParseText("leak.yaml", """
        campaign: leak
        profiles: [6.12]
        workloads: {hostile: 1}
        """) with { ConfigureMachine = plant };

    [Test]
    public void Hostile_SoundSimulator_TheReadIsCompleteAndTheFinalCheckClean()
    {
        var run = SeedRunner.Run(Spec(), ReadFd0IntoBuffer(), KernelVersion.Parse("6.12"));
        Assert.That(run.Records.Select(r => (r.Call.Split('(')[0], r.Ret, r.Outcome)),
            Is.EqualTo(new[] { ("read", (long?)4096, Outcome.Complete), ("final-check", null, Outcome.Complete) }));
    }

    [Test]
    public void Hostile_CopyToUserFromTheWrongKernelPage_IsALeakOfKernelMemory()
    {
        var run = SeedRunner.Run(Spec(b => b.Services.AddSingleton<ICopyRoutines>(sp =>
            new WrongSourceCopy(ActivatorUtilities.CreateInstance<CopyRoutines>(sp), sp.GetRequiredService<PhysicalMemory>()))),
            ReadFd0IntoBuffer(), KernelVersion.Parse("6.12"));
        Assert.That(run.Records[0].Outcome, Is.EqualTo(Outcome.Leak));
        Assert.That(run.Records[0].Detail, Is.EqualTo("buf+0x0 holds a canary of kernel memory"));
        Assert.That(run.Worst, Is.EqualTo(Outcome.Leak));
    }

    [Test]
    public void Hostile_CopyToUserDroppingAByte_IsSilentCorruption()
    {
        var spec = Spec(b => SimulatorDefects.Copy(b, SimulatorDefects.CopyDefect.DroppedByte));
        var run = SeedRunner.Run(spec, ReadFd0IntoBuffer(), KernelVersion.Parse("6.12"));
        Assert.That(run.Records[0].Outcome, Is.EqualTo(Outcome.SilentCorruption));
        Assert.That(run.Records[0].Detail, Does.StartWith("buf+0x800 = "), "filemap_read copies the page in one copy: its middle byte");
    }

    [Test]
    public void Hostile_MadviseDontneedRunningIntoAHole_ZeroesTheBufferPagesAndReturnsEnomem_TheOracleFollows()
    {
        // madvise(buf, 0x7ffff000, MADV_DONTNEED): madvise_walk_vmas zaps the buffer's pages, then -ENOMEM for the hole.
        var plan = new CampaignPlan(1, WorkloadKind.Hostile, false, [],
            [
                new PlanStep(StepKind.Hostile, Raw: [12, 0xA000_0000_0000_0001, 0x7ffff000, 0, 0, 0, 1UL << 40]),
                new PlanStep(StepKind.Hostile, Raw: [14, 0xA000_0000_0000_0001, 64, 0, 0, 0, 0]), // load 64 bytes of buf: a fresh zero page
            ]);
        var run = SeedRunner.Run(Spec(), plan, KernelVersion.Parse("6.12"));
        Assert.That(run.Records.Select(r => (r.Ret, r.Outcome)),
            Is.EqualTo(new[] { ((long?)-12, Outcome.OtherErrno), (64, Outcome.Complete), (null, Outcome.Complete) }));
    }

    /// <summary>copy_to_user reading the kernel page that holds the kernel canary instead of its source (a stale pointer).</summary>
    private sealed class WrongSourceCopy(ICopyRoutines inner, PhysicalMemory phys) : DelegatingCopyRoutines(inner)
    {
        private KernelPtr? _canary;

        private KernelPtr Canary()
        {
            if (_canary is { } c) return c;
            var page = new byte[PageDefs.PAGE_SIZE];
            foreach (var r in phys.Ranges.Where(r => r.Kind == MemoryKind.Dram))
                for (var pa = r.Start.Value; pa < r.Start.Value + r.Size; pa += PageDefs.PAGE_SIZE)
                {
                    phys.PeekBytes(new PhysAddr(pa), page);
                    if (IsolationOracle.Find(page) is { Area: "kernel memory" })
                        return (_canary = new KernelPtr(PageDefs.PAGE_OFFSET + pa)).Value;
                }
            throw new InvalidOperationException("no kernel canary");
        }

        public override ulong CopyToUser(UserPtr to, KernelPtr from, ulong n) => Inner.CopyToUser(to, Canary(), Math.Min(n, PageDefs.PAGE_SIZE));
        public override ulong RawCopyToUser(UserPtr to, KernelPtr from, ulong n) => Inner.RawCopyToUser(to, Canary(), Math.Min(n, PageDefs.PAGE_SIZE));
        public override ulong CopyMcToUser(UserPtr dst, KernelPtr src, ulong len) => Inner.CopyMcToUser(dst, Canary(), Math.Min(len, PageDefs.PAGE_SIZE));
    }
}
