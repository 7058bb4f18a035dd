using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.FsDax;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Mm;

/// <summary>
/// When SIGBUS arrives after MADV_HWPOISON, per page type and release (docs/kernel/memory-failure.md "MADV_HWPOISON
/// signal timing", MF21): each row on both sides of each release change.
/// </summary>
public class HwpoisonSignalTimingTests
{
    private const ulong Ps = PageDefs.PAGE_SIZE;

    [TestCase("6.10")]
    [TestCase("6.11")]
    public void Anonymous(string kernel)
    {
        var m = Sim.Boot(kernel);
        var p = m.Spawn("t");
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var a = p.MapAnonymous(Ps);
        p.Fill(a, Ps, _ => 1);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        if (kernel == "6.11")
        {
            Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value, 12, true)), "inside madvise, page-aligned");
            return;
        }
        Assert.That(p.SignalsReceived, Is.Empty, "6.10: no MF_ACTION_REQUIRED, no early kill: nothing yet");
        p.LoadByte(a + 0x123, out _);
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value + 0x123, 12, true)), "at the next access, exact address");
    }

    [TestCase("6.10", false)]
    [TestCase("6.11", false)]
    [TestCase("6.10", true)]
    [TestCase("6.11", true)]
    public void PageCache(string kernel, bool dirty)
    {
        var s = new DaxScenario(kernel, DaxMode.Never);
        var p = s.P;
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var fd = s.CreateFile("f", (long)Ps);
        var a = s.MapFile(fd, Ps, Mman.PROT_READ | Mman.PROT_WRITE);
        p.Fill(a, Ps, _ => 7);
        if (!dirty) Assert.That(p.Fsync(fd), Is.Zero);
        Assert.That(p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        if (!dirty)
        {
            Assert.That(p.SignalsReceived, Is.Empty, "clean: dropped, nobody is killed");
            Assert.That(p.LoadByte(a + 9, out var v).Completed(1) && v == 7, Is.True, "re-read from the device");
            Assert.That(p.SignalsReceived, Is.Empty);
            return;
        }
        if (kernel == "6.11")
        {
            Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value, 12, true)));
            return;
        }
        Assert.That(p.SignalsReceived, Is.Empty);
        p.LoadByte(a + 9, out _);
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value + 9, 12, true)));
    }

    [Test]
    public void DirtyPageCache_EarlyKillProcessIsToldAo_LateOneAtItsNextAccess()
    {
        var s = new DaxScenario("6.12", DaxMode.Never);
        var fd = s.CreateFile("f", (long)Ps);
        var a = s.MapFile(fd, Ps, Mman.PROT_READ | Mman.PROT_WRITE);
        s.P.Fill(a, Ps, _ => 7);
        var early = s.M.Spawn("early");
        var late = s.M.Spawn("late");
        foreach (var q in new[] { early, late, s.P }) q.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(early.Prctl(Mman.PR_MCE_KILL, Mman.PR_MCE_KILL_SET, Mman.PR_MCE_KILL_EARLY), Is.Zero);
        var fe = (int)early.Open(s.Path("f"), Fcntl.O_RDWR);
        var fl = (int)late.Open(s.Path("f"), Fcntl.O_RDWR);
        var ae = s.MapFile(fe, Ps, Mman.PROT_READ | Mman.PROT_WRITE, p: early);
        var al = s.MapFile(fl, Ps, Mman.PROT_READ | Mman.PROT_WRITE, p: late);
        early.LoadByte(ae, out _);
        late.LoadByte(al, out _);
        Assert.That(s.P.Madvise(a.Value, Ps, Mman.MADV_HWPOISON), Is.Zero);
        Assert.Multiple(() =>
        {
            Assert.That(s.P.SignalsReceived.Single().Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
            Assert.That(early.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AO, ae.Value, 12, false)));
            Assert.That(late.SignalsReceived, Is.Empty);
        });
        late.LoadByte(al + 1, out _);
        Assert.That(late.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, al.Value + 1, 12, true)));
    }

    [TestCase("4.18")]
    [TestCase("4.19")]
    [TestCase("6.10")]
    [TestCase("6.11")]
    public void Fsdax(string kernel)
    {
        var s = new DaxScenario(kernel, DaxMode.Always, huge: false);
        var p = s.P;
        p.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        var fd = s.CreateFile("f", (long)Ps);
        var a = s.MapFile(fd, Ps, Mman.PROT_READ | Mman.PROT_WRITE);
        p.Fill(a, Ps, _ => 3);
        var r = p.Madvise(a.Value, Ps, Mman.MADV_HWPOISON);
        if (kernel == "4.18")
        {
            Assert.That(r, Is.EqualTo(-Errno.EBUSY), "before memory_failure_dev_pagemap: a reserved kernel page, Failed");
            Assert.That(p.SignalsReceived, Is.Empty);
            return;
        }
        Assert.That(r, Is.Zero);
        // mf_generic_kill_procs forces MF_ACTION_REQUIRED | MF_MUST_KILL in every release from 4.19.
        Assert.That(p.SignalsReceived.Single(), Is.EqualTo(new SigInfo(Sig.SIGBUS, Sig.BUS_MCEERR_AR, a.Value, 12, true)));
    }
}
