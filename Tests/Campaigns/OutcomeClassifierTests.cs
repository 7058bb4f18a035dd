using KernelSim.Kernel;
using KernelSim.Scenarios.Campaigns;
using KernelSim.Uapi;

namespace KernelSim.Tests.Campaigns;

/// <summary>The outcome classifier on its own: crafted observations, exact outcomes and details.</summary>
public class OutcomeClassifierTests
{
    private static Observation Returned(long ret, SigInfo? signal = null) =>
        new(ret, signal, null, MachineStatus.Running, null, ProcessState.Running, null);

    private static Observation Stuck(MachineStatus m, ProcessState p, string? panic = null, string? stuck = null, SigInfo? killedBy = null) =>
        new(Machine.NoReturn, null, killedBy, m, panic, p, stuck);

    private static (Outcome, string) Classify(Observation o, ulong requested)
    {
        var outcome = OutcomeClassifier.Classify(o, requested, out var detail);
        return (outcome, detail);
    }

    [TestCase(4096, 4096ul, Outcome.Complete, "")]
    [TestCase(100, 4096ul, Outcome.ShortCount, "100 of 4096 bytes")]
    [TestCase(0, 4096ul, Outcome.ShortCount, "0 of 4096 bytes")]
    [TestCase(-14, 4096ul, Outcome.Efault, "")]
    [TestCase(-5, 4096ul, Outcome.Eio, "")]
    [TestCase(-22, 4096ul, Outcome.OtherErrno, "EINVAL")]
    [TestCase(4097, 4096ul, Outcome.SimBug, "out-of-range return 4097 for 4096 bytes")]
    [TestCase(-4096, 4096ul, Outcome.SimBug, "out-of-range return -4096 for 4096 bytes")]
    [TestCase(0, 0ul, Outcome.Complete, "")]
    public void Returned_ByValue(long ret, ulong requested, Outcome outcome, string detail) =>
        Assert.That(Classify(Returned(ret), requested), Is.EqualTo((outcome, detail)));

    [Test]
    public void ASignalDuringTheCall_WinsOverTheReturnValue()
    {
        var sig = new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, 0x7000, 12, Forced: true);
        Assert.That(Classify(Returned(-14, sig), 4096), Is.EqualTo((Outcome.SigbusAr, "SIGBUS BUS_MCEERR_AR si_addr=0x7000 ret=-EFAULT (-14)")));
        var segv = new SigInfo(Sig.SIGSEGV, Sig.SEGV_ACCERR, 0x1234, 0, Forced: false);
        Assert.That(Classify(Returned(10, segv), 4096), Is.EqualTo((Outcome.SigsegvAccerr, "SIGSEGV SEGV_ACCERR si_addr=0x1234 ret=10")));
    }

    [Test]
    public void NoReturn_ByMachineThenProcessState()
    {
        Assert.That(Classify(Stuck(MachineStatus.Panicked, ProcessState.Running, panic: "Fatal machine check"), 1),
            Is.EqualTo((Outcome.Panic, "Fatal machine check")));
        Assert.That(Classify(Stuck(MachineStatus.Shutdown, ProcessState.Running, panic: "MCIP set"), 1),
            Is.EqualTo((Outcome.Panic, "shutdown: MCIP set")));
        Assert.That(Classify(Stuck(MachineStatus.VmStopped, ProcessState.Running, panic: "host fault"), 1),
            Is.EqualTo((Outcome.VmStop, "host fault")));
        Assert.That(Classify(Stuck(MachineStatus.Running, ProcessState.Livelocked, stuck: "fault-in loop"), 1),
            Is.EqualTo((Outcome.Livelock, "fault-in loop")));
        Assert.That(Classify(Stuck(MachineStatus.Running, ProcessState.Oopsed, stuck: "oops"), 1), Is.EqualTo((Outcome.Oops, "oops")));
        var kill = new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, 0x2000, 12, Forced: true);
        Assert.That(Classify(Stuck(MachineStatus.Running, ProcessState.Killed, killedBy: kill), 1),
            Is.EqualTo((Outcome.SigbusAr, "SIGBUS BUS_MCEERR_AR si_addr=0x2000")));
        Assert.That(Classify(Stuck(MachineStatus.Running, ProcessState.Running), 1),
            Is.EqualTo((Outcome.SimBug, "no return with the machine and the process running")));
    }

    [Test]
    public void UserAccess_ByBytesDone()
    {
        var running = Stuck(MachineStatus.Running, ProcessState.Running);
        Assert.That(OutcomeClassifier.UserAccess(new UserAccessResult(5, null, null), 5, running, out var d), Is.EqualTo(Outcome.Complete));
        Assert.That(d, Is.Empty);
        Assert.That(OutcomeClassifier.UserAccess(new UserAccessResult(3, null, null), 5, running, out d), Is.EqualTo(Outcome.ShortCount));
        Assert.That(d, Is.EqualTo("3 of 5 bytes"));
        Assert.That(OutcomeClassifier.UserAccess(new UserAccessResult(6, null, null), 5, running, out d), Is.EqualTo(Outcome.SimBug));
        Assert.That(d, Is.EqualTo("user access reports 6 bytes of 5"));
        var segv = new SigInfo(Sig.SIGSEGV, Sig.SEGV_MAPERR, 0x3000, 0, Forced: false);
        Assert.That(OutcomeClassifier.UserAccess(new UserAccessResult(0, segv, null), 5, running, out d), Is.EqualTo(Outcome.SigsegvMaperr));
        Assert.That(d, Is.EqualTo("SIGSEGV SEGV_MAPERR si_addr=0x3000"));
        var panicked = Stuck(MachineStatus.Panicked, ProcessState.Running, panic: "Fatal");
        Assert.That(OutcomeClassifier.UserAccess(new UserAccessResult(0, null, "panic: Fatal"), 5, panicked, out d), Is.EqualTo(Outcome.Panic));
        Assert.That(d, Is.EqualTo("panic: Fatal"), "the access's own outcome text");
    }

    [Test]
    public void Write_AcceptedPoison_ReplacesCompleteAndShortOnly()
    {
        var detail = "";
        Assert.That(OutcomeClassifier.Write(Outcome.Complete, true, 4096, ref detail), Is.EqualTo(Outcome.PoisonAccepted));
        Assert.That(detail, Is.EqualTo("write accepted 4096 bytes including a poisoned source line"));
        detail = "100 of 200 bytes";
        Assert.That(OutcomeClassifier.Write(Outcome.ShortCount, true, 100, ref detail), Is.EqualTo(Outcome.PoisonAccepted));
        Assert.That(detail, Is.EqualTo("write accepted 100 bytes including a poisoned source line"));
        detail = "";
        Assert.That(OutcomeClassifier.Write(Outcome.Eio, true, 0, ref detail), Is.EqualTo(Outcome.Eio));
        Assert.That(OutcomeClassifier.Write(Outcome.Complete, false, 4096, ref detail), Is.EqualTo(Outcome.Complete));
        Assert.That(detail, Is.Empty);
    }

    [Test]
    public void Judge_AnyMismatch_IsSilentCorruption_WhateverTheCallReturned()
    {
        var detail = "SIGBUS BUS_MCEERR_AR si_addr=0x7000";
        Assert.That(OutcomeClassifier.Judge(Outcome.SigbusAr, [], ref detail), Is.EqualTo(Outcome.SigbusAr));
        Assert.That(detail, Is.EqualTo("SIGBUS BUS_MCEERR_AR si_addr=0x7000"));
        Assert.That(OutcomeClassifier.Judge(Outcome.Complete, ["a", "b"], ref detail), Is.EqualTo(Outcome.SilentCorruption));
        Assert.That(detail, Is.EqualTo("a; b"));
    }

    [Test]
    public void AReadThatDeliversAWrongByte_IsSilentCorruption()
    {
        // A read of 16 bytes from region offset 4096 into buf+0x200 returns 16 (complete), but the "kernel" got
        // one byte wrong: the oracle finds it and the operation is silent corruption, not complete.
        var region = new byte[CampaignPlan.Region];
        for (var i = 0; i < region.Length; i++) region[i] = (byte)(i ^ 0x5a);
        var oracle = new CampaignOracle(new ByteModel(region), new ByteModel(new byte[CampaignPlan.BufSize]));
        byte? Delivered(ulong off) => off == 0x209 || off < 0x200 || off >= 0x210 ? (byte)0x00 : region[4096 + (int)(off - 0x200)];

        var outcome = OutcomeClassifier.Classify(Returned(16), 16, out var detail);
        Assert.That((outcome, detail), Is.EqualTo((Outcome.Complete, "")));
        var mismatches = oracle.Read([(0x200, 16)], 4096, 16, Delivered, _ => false);
        outcome = OutcomeClassifier.Judge(outcome, mismatches, ref detail);

        // Region byte 4105 = 0x1009 ^ 0x5a -> 0x53.
        Assert.That(outcome, Is.EqualTo(Outcome.SilentCorruption));
        Assert.That(detail, Is.EqualTo("buf+0x209 = 0x00, file/device offset 4105 holds 0x53"));
    }
}
