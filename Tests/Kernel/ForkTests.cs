using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Tests.Infrastructure;
using KernelSim.Uapi;

namespace KernelSim.Tests.Kernel;

/// <summary>fork(2), exit(2), wait4(2) and the comm name (kernel/fork.c, kernel/exit.c, kernel/sys.c, mm/memory.c copy-on-write).</summary>
public class ForkTests
{
    private const int RW = Mman.PROT_READ | Mman.PROT_WRITE;

    private static Process Child(Process parent)
    {
        var pid = parent.Fork(out var child);
        Assert.That(pid, Is.GreaterThan(0));
        Assert.That(child!.Pid, Is.EqualTo(pid));
        return child;
    }

    private static byte[] Bytes(Process p, UserPtr at, int n)
    {
        var b = new byte[n];
        Assert.That(p.Load(at, b).Done, Is.EqualTo((ulong)n));
        return b;
    }

    [Test]
    public void Fork_PrivateAnonymous_CopyOnWrite_EachSideSeesItsOwnBytes()
    {
        var m = Sim.Boot();
        var parent = m.Spawn("cow");
        var a = parent.MapAnonymous(2 * 4096);
        Assert.That(parent.Store(a, [1, 2, 3, 4]).Done, Is.EqualTo(4UL));
        Assert.That(parent.Store(a + 4096UL, [9]).Done, Is.EqualTo(1UL));
        var pfn = parent.Mm.PfnAt(a.Value)!.Value;

        var child = Child(parent);
        Assert.That(child.Mm.PfnAt(a.Value), Is.EqualTo(pfn), "the page is shared after fork");
        Assert.That(m.Phys.Frame(pfn).MapCount, Is.EqualTo(2));

        Assert.That(child.Store(a + 1UL, [0xcc]).Done, Is.EqualTo(1UL));
        Assert.That(child.Mm.PfnAt(a.Value), Is.Not.EqualTo(pfn), "the child's write copied the page");
        Assert.That(Bytes(child, a, 4), Is.EqualTo(new byte[] { 1, 0xcc, 3, 4 }));
        Assert.That(Bytes(parent, a, 4), Is.EqualTo(new byte[] { 1, 2, 3, 4 }), "the parent still sees its bytes");
        Assert.That(m.Phys.Frame(pfn).MapCount, Is.EqualTo(1));

        // The parent is now the only mapper: its write reuses the page (wp_page_reuse), no copy.
        Assert.That(parent.Store(a + 2UL, [0xdd]).Done, Is.EqualTo(1UL));
        Assert.That(parent.Mm.PfnAt(a.Value), Is.EqualTo(pfn));
        Assert.That(Bytes(child, a + 4096UL, 1), Is.EqualTo(new byte[] { 9 }), "untouched pages stay shared");
        Assert.That(child.Mm.PfnAt(a.Value + 4096), Is.EqualTo(parent.Mm.PfnAt(a.Value + 4096)));
    }

    [Test]
    public void Fork_SharedAnonymous_StaysShared()
    {
        var parent = Sim.Boot().Spawn();
        var a = parent.MapAnonymous(4096, shared: true);
        Assert.That(parent.Store(a, [7]).Done, Is.EqualTo(1UL));
        var child = Child(parent);
        Assert.That(child.Store(a + 1UL, [8]).Done, Is.EqualTo(1UL));
        Assert.That(Bytes(parent, a, 2), Is.EqualTo(new byte[] { 7, 8 }), "MAP_SHARED: the child's store is the parent's");
        Assert.That(child.Mm.PfnAt(a.Value), Is.EqualTo(parent.Mm.PfnAt(a.Value)));
    }

    [Test]
    public void Fork_MprotectOnCowPage_KeepsItReadOnlyUntilTheWriteFault()
    {
        var parent = Sim.Boot().Spawn();
        var a = parent.MapAnonymous(4096);
        Assert.That(parent.Store(a, [5]).Done, Is.EqualTo(1UL));
        var child = Child(parent);
        Assert.That(parent.Mprotect(a.Value, 4096, Mman.PROT_READ), Is.Zero);
        Assert.That(parent.Mprotect(a.Value, 4096, RW), Is.Zero);
        Assert.That(parent.Store(a, [6]).Done, Is.EqualTo(1UL));
        Assert.That(Bytes(child, a, 1), Is.EqualTo(new byte[] { 5 }), "mprotect did not make the shared page writable");
    }

    [Test]
    public void Fork_HwpoisonEntry_IsCopied_ChildGetsSigbus()
    {
        var m = Sim.Boot();
        var parent = m.Spawn();
        var a = parent.MapAnonymous(4096);
        Assert.That(parent.Store(a, [1]).Done, Is.EqualTo(1UL));
        parent.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        Assert.That(parent.Madvise(a.Value, 4096, Mman.MADV_HWPOISON), Is.Zero);
        Assert.That(parent.Mm.IsHwPoisonEntry(a.Value), Is.True);
        var child = Child(parent);
        Assert.That(child.Mm.IsHwPoisonEntry(a.Value), Is.True, "copy_nonpresent_pte copies the hwpoison entry");
        Assert.That(child.GetSignalHandler(Sig.SIGBUS), Is.EqualTo(SignalDisposition.Catch), "the handler is inherited");
        child.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Default);
        child.LoadByte(a, out _);
        Assert.That(child.State, Is.EqualTo(ProcessState.Killed));
        Assert.That(child.KilledBy!.Value.Signo, Is.EqualTo(Sig.SIGBUS));
        Assert.That(child.KilledBy!.Value.Code, Is.EqualTo(Sig.BUS_MCEERR_AR));
        Assert.That(child.KilledBy!.Value.Addr, Is.EqualTo(a.Value));
    }

    [Test]
    public void Fork_InheritsDispositionsNotPendingSignals_AndSharesTheOpenFile()
    {
        var m = Sim.Boot();
        var parent = m.Spawn();
        parent.SetSignalHandler(Sig.SIGBUS, SignalDisposition.Catch);
        parent.SetSignalHandler(Sig.SIGSEGV, SignalDisposition.Ignore);
        var fd = (int)parent.Open("/proc/self/comm", Fcntl.O_RDONLY);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        var child = Child(parent);
        Assert.That(child.GetSignalHandler(Sig.SIGBUS), Is.EqualTo(SignalDisposition.Catch));
        Assert.That(child.GetSignalHandler(Sig.SIGSEGV), Is.EqualTo(SignalDisposition.Ignore));
        Assert.That(child.SignalsPending, Is.Empty);
        Assert.That(child.FileAt(fd), Is.SameAs(parent.FileAt(fd)), "the same struct file");
        Assert.That(parent.FileAt(fd)!.Count, Is.EqualTo(2));
        Assert.That(child.Lseek(fd, 3, Fcntl.SEEK_SET), Is.EqualTo(3));
        Assert.That(parent.FileAt(fd)!.Pos, Is.EqualTo(3), "f_pos is shared");
        Assert.That(child.Close(fd), Is.Zero);
        Assert.That(parent.FileAt(fd)!.Count, Is.EqualTo(1));
        Assert.That(parent.Lseek(fd, 0, Fcntl.SEEK_CUR), Is.EqualTo(3));
    }

    [Test]
    public void ExitAndWait4_StatusEncoding()
    {
        var m = Sim.Boot();
        var parent = m.Spawn();
        var c1 = Child(parent);
        var c2 = Child(parent);
        Assert.That(parent.Wait4(-1, out _, Wait.WNOHANG), Is.Zero, "no child has exited yet");
        c2.Exit(0x1234);
        Assert.That(c2.State, Is.EqualTo(ProcessState.Exited));
        Assert.That(parent.Wait4(-1, out var st, 0), Is.EqualTo(c2.Pid));
        Assert.That(st, Is.EqualTo(0x3400));
        Assert.That(Wait.WIFEXITED(st) && Wait.WEXITSTATUS(st) == 0x34, Is.True);
        Assert.That(Wait.WIFSIGNALED(st), Is.False);
        Assert.That(m.Scheduler.Processes, Does.Not.Contain(c2), "reaped");
        Assert.That(parent.Wait4(c2.Pid, out _, 0), Is.EqualTo((long)-Errno.ECHILD));

        // SIGSEGV's default action kills c1 (and would dump core, but RLIMIT_CORE is 0).
        c1.LoadByte(new UserPtr(0x10000), out _);
        Assert.That(c1.State, Is.EqualTo(ProcessState.Killed));
        Assert.That(parent.Wait4(c1.Pid, out st, 0), Is.EqualTo(c1.Pid));
        Assert.That(st, Is.EqualTo(Sig.SIGSEGV));
        Assert.That(Wait.WIFSIGNALED(st) && Wait.WTERMSIG(st) == Sig.SIGSEGV && !Wait.WCOREDUMP(st), Is.True);
        Assert.That(parent.Wait4(-1, out _, 0), Is.EqualTo((long)-Errno.ECHILD));
        Assert.That(parent.Wait4(-1, out _, 0x100), Is.EqualTo((long)-Errno.EINVAL), "unknown option");
    }

    [Test]
    public void Wait4_SigbusWithCoreLimit_SetsTheCoreDumpBit_AndStoresTheStatusWord()
    {
        var m = Sim.Boot();
        var parent = m.Spawn();
        parent.RlimitCore = ulong.MaxValue;
        var statusBuf = parent.MapAnonymous(4096);
        var child = Child(parent);
        var a = child.MapAnonymous(4096);
        Assert.That(child.Store(a, [1]).Done, Is.EqualTo(1UL));
        Assert.That(child.Madvise(a.Value, 4096, Mman.MADV_HWPOISON), Is.Zero);
        if (child.Alive) child.LoadByte(a, out _);
        Assert.That(child.KilledBy!.Value.Signo, Is.EqualTo(Sig.SIGBUS));
        Assert.That(parent.Wait4(child.Pid, statusBuf, 0), Is.EqualTo(child.Pid));
        var b = new byte[4];
        Assert.That(parent.Load(statusBuf, b).Done, Is.EqualTo(4UL));
        var st = BitConverter.ToInt32(b);
        Assert.That(st, Is.EqualTo(Sig.SIGBUS | 0x80));
        Assert.That(Wait.WCOREDUMP(st), Is.True);
    }

    [Test]
    public void Wait4_BadStatusPointer_Efault_ChildIsReapedAnyway()
    {
        var parent = Sim.Boot().Spawn();
        var child = Child(parent);
        child.Exit(3);
        Assert.That(parent.Wait4(child.Pid, new UserPtr(0x1000), 0), Is.EqualTo((long)-Errno.EFAULT));
        Assert.That(parent.Children, Is.Empty);
    }

    [Test]
    public void Wait4_BlockingWithOnlyRunningChildren_TheCallerSleepsForever()
    {
        var parent = Sim.Boot().Spawn();
        Child(parent);
        Assert.That(parent.Wait4(-1, out _, 0), Is.EqualTo(Machine.NoReturn));
        Assert.That(parent.State, Is.EqualTo(ProcessState.Livelocked));
    }

    [Test]
    public void Comm_CutTo15Characters_AtSpawnForkAndPrctl()
    {
        var m = Sim.Boot();
        var p = m.Spawn("a-very-long-program-name");
        Assert.That(p.Comm, Is.EqualTo("a-very-long-pro"));
        Assert.That(Child(p).Comm, Is.EqualTo("a-very-long-pro"));
        var buf = p.MapAnonymous(4096);
        Assert.That(p.Store(buf, "0123456789abcdefXYZ\0"u8.ToArray()).Done, Is.EqualTo(20UL));
        Assert.That(p.Prctl(Mman.PR_SET_NAME, buf.Value), Is.Zero);
        Assert.That(p.Comm, Is.EqualTo("0123456789abcde"));
        Assert.That(p.Prctl(Mman.PR_GET_NAME, buf.Value + 100), Is.Zero);
        Assert.That(Bytes(p, buf + 100UL, 16), Is.EqualTo("0123456789abcde\0"u8.ToArray()));
        Assert.That(p.Prctl(Mman.PR_SET_NAME, 0x1000), Is.EqualTo((long)-Errno.EFAULT));
        Assert.That(p.Prctl(Mman.PR_GET_NAME, 0x1000), Is.EqualTo((long)-Errno.EFAULT));
    }

    [Test]
    public void Exit_ReleasesTheLastReference_OrphansGoToInit()
    {
        var m = Sim.Boot();
        var parent = m.Spawn();
        var child = Child(parent);
        var grandchild = Child(child);
        grandchild.Exit(0);
        child.Exit(1);
        Assert.That(grandchild.Parent, Is.Null);
        Assert.That(m.Scheduler.Processes, Does.Not.Contain(grandchild), "init reaped the orphaned zombie");
        Assert.That(parent.Wait4(child.Pid, out var st), Is.EqualTo(child.Pid));
        Assert.That(Wait.WEXITSTATUS(st), Is.EqualTo(1));
    }
}
