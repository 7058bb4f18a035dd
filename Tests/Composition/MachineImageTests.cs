using System.Security.Cryptography;
using System.Text;
using KernelSim.Arch.X86;
using KernelSim.Block;
using KernelSim.Drivers.Pmem;
using KernelSim.Fs.Dax;
using KernelSim.Fs.Kernfs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Profiles;
using KernelSim.Uapi;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace KernelSim.Tests.Composition;

/// <summary>
/// <see cref="MachineImage"/>: a machine booted from an image behaves byte for byte like one from
/// <see cref="MachineBuilder.Build"/> (outcome, trace, dmesg, machine checks, media, struct pages, sysfs text,
/// badblocks), and two machines of one image share no per-machine object.
/// </summary>
public class MachineImageTests
{
    private const int Len = 64 * 1024;

    private static MachineBuilder Builder() => new MachineBuilder().WithKernel("6.12").WithCpu(CpuModel.FastString).WithTrace(true)
        .AddPmem(new PmemNamespaceSpec(64UL << 20)).AddDaxFs();

    /// <summary>
    /// The experiment of Bench/ExperimentBenchmarks.cs (mkfs + mount dax=always, 64 KiB written, a poisoned line at file
    /// byte 4160, an 8 KiB pread), then ndctl's inject-error with ARS, and everything a user or the host can observe.
    /// </summary>
    private static string Experiment(Machine m)
    {
        var pmem = m.Pmem();
        var fs = DaxFs.FormatAndMount(m, pmem.Disk, new DaxFsOptions { Dax = DaxMode.Always });
        var p = m.Spawn("app");
        var buf = p.MapAnonymous(Len);
        var pattern = new byte[Len];
        for (var i = 0; i < Len; i++) pattern[i] = (byte)(i * 7 + 3);
        Assert.That(p.Store(buf, pattern).Done, Is.EqualTo((ulong)Len));
        var fd = (int)p.Open(fs.PathOf("F"), Fcntl.O_RDWR | Fcntl.O_CREAT);
        Assert.That(p.Pwrite64(fd, buf, Len, 0), Is.EqualTo(Len));
        Assert.That(m.InjectPoison(new PhysAddr(pmem.DataPhys((ulong)fs.DeviceOffsetOf("F", 4160)))), Is.Zero);
        var read = p.Pread64(fd, buf, 8192, 0);
        var sh = m.Spawn("ndctl");
        var inject = Ndctl.Run(sh, "inject-error namespace0.0 --block=40000 --count=8");

        var o = new StringBuilder();
        o.Append($"pread {read}\ninject {inject.Rc} {inject.Stdout}{inject.Stderr}\n");
        foreach (var path in new[] { "/sys/block/pmem0/badblocks", "/sys/bus/nd/devices/region0/badblocks", "/sys/bus/nd/devices/namespace0.0/mode",
                     "/sys/bus/nd/devices/namespace0.0/holder", "/sys/bus/nd/devices/pfn0.0/size", "/sys/bus/nd/devices/region0/available_size", "/proc/self/maps" })
        {
            o.Append($"{path}: {sh.ReadText(path, out var text)} {text}\n");
        }
        Assert.That(sh.ListDir("/sys/bus/nd/devices", out var names), Is.Zero);
        o.Append("nd devices: ").AppendJoin(' ', names).Append('\n');
        o.Append("disk badblocks: ").Append(pmem.Disk.BadblocksShow()).Append('\n');
        o.Append("dmesg:\n").AppendJoin('\n', m.State.Dmesg).Append('\n');
        o.Append("mce:\n").AppendJoin('\n', m.Mce.Log.Select(r => r.ToString())).Append('\n');
        o.Append("poison: ").AppendJoin(' ', m.Phys.PoisonedLines().Select(a => a.Value.ToString("x"))).Append('\n');
        o.Append("frames: ").AppendJoin(' ', m.Phys.FramesInOrder().Select(f => $"{f.Pfn:x}:{f.Flags}")).Append('\n');
        o.Append("media: ").Append(MediaHash(m)).Append('\n');
        o.Append("trace:\n").Append(m.TraceText());
        return o.ToString();
    }

    /// <summary>SHA-256 of every byte of every registered physical range (DRAM and the pmem region), read without CPU semantics.</summary>
    private static string MediaHash(Machine m)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        var page = new byte[PageDefs.PAGE_SIZE];
        foreach (var r in m.Phys.Ranges)
        {
            for (var a = r.Start.Value; a < r.End.Value; a += PageDefs.PAGE_SIZE)
            {
                if (m.Phys.Peek(a >> PageDefs.PAGE_SHIFT) == null) continue; // never-written frames read as zeros either way
                m.Phys.PeekBytes(new PhysAddr(a), page);
                sha.AppendData(BitConverter.GetBytes(a));
                sha.AppendData(page);
            }
        }
        return Convert.ToHexString(sha.GetHashAndReset());
    }

    [Test]
    public void BootedFromImage_TheExperimentsOutcomeIsByteForByteTheBuiltMachines()
    {
        var built = Experiment(Builder().Build());
        Assert.That(built, Does.StartWith("pread 4160\ninject 0 "), "the experiment reads up to the poisoned line and injects with ARS");
        Assert.That(built, Does.Contain("/sys/block/pmem0/badblocks: 0 8 1\n40000 8\n"));
        Assert.That(built, Does.Contain("mce: Uncorrected hardware memory error in kernel at 100201040"));
        Assert.That(built, Does.Contain("dax_iomap_rw() {"), "the trace is on");
        var image = Builder().Prepare();
        for (var i = 0; i < 3; i++) Assert.That(Experiment(image.Boot()), Is.EqualTo(built), $"machine {i} of the image");
    }

    [Test]
    public void OneImage_MachinesBootedOnFourThreadsAtOnce_EachRunsTheExperimentAsTheBuiltMachine()
    {
        // A campaign's workers boot from one image at once; the first boot (which makes the shared info block pages) races
        // the others here.
        var built = Experiment(Builder().Build());
        var image = Builder().Prepare();
        var results = new string?[4];
        var errors = new Exception?[4];
        using var start = new Barrier(results.Length);
        var threads = Enumerable.Range(0, results.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            try
            {
                results[i] = Experiment(image.Boot());
            }
            catch (Exception e)
            {
                errors[i] = e;
            }
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.That(errors, Is.All.Null);
        Assert.That(results, Is.All.EqualTo(built));
    }

    [Test]
    public void OneImageWithNoNamespaceGiven_MachinesBootedOnFourThreadsAtOnce_EachGetsTheOne64MiBNamespace_TheOptionsStayEmpty()
    {
        // Nvdimm.Probe only reads the options all machines of the image share: its default namespace is its own.
        PmemOptions? options = null;
        var image = new MachineBuilder().WithKernel("6.12").AddPmem(o => options = o).Prepare();
        var sizes = new string?[4];
        using var start = new Barrier(sizes.Length);
        var threads = Enumerable.Range(0, sizes.Length).Select(i => new Thread(() =>
        {
            start.SignalAndWait();
            var m = image.Boot(null);
            sizes[i] = string.Join(' ', m.NvdimmBus()!.Regions.SelectMany(r => r.Namespaces).Select(n => n.Size));
        })).ToArray();
        foreach (var t in threads) t.Start();
        foreach (var t in threads) t.Join();
        Assert.That(sizes, Is.All.EqualTo((64UL << 20).ToString()));
        Assert.That(options!.Namespaces, Is.Empty);
    }

    [Test]
    public void BootedFromImage_ReplacedCoreService_SameOutcomeAsBuilt()
    {
        static MachineBuilder WithContainerCore()
        {
            var b = Builder();
            b.Services.AddSingleton<ICopyRoutines, CopyRoutines>(); // a replaced core service: the container composes the core
            return b;
        }
        var built = Experiment(WithContainerCore().Build());
        var image = WithContainerCore().Prepare();
        Assert.That(Experiment(image.Boot()), Is.EqualTo(built));
        Assert.That(Experiment(image.Boot()), Is.EqualTo(built));
    }

    [Test]
    public void TwoMachinesOfOneImage_ShareNoPerMachineObject()
    {
        var image = Builder().Prepare();
        var a = image.Boot();
        var b = image.Boot();
        Assert.That(b, Is.Not.SameAs(a));
        Assert.That(b.Services, Is.Not.SameAs(a.Services));
        Assert.That(a.Services.GetRequiredService<Machine>(), Is.SameAs(a));
        Assert.That(b.Services.GetRequiredService<Machine>(), Is.SameAs(b));
        foreach (var t in new[] { typeof(PhysicalMemory), typeof(IMemoryMedia), typeof(Cpu), typeof(ICopyRoutines), typeof(MachineState),
                     typeof(MachineOptions), typeof(KernelSim.Trace.Tracer), typeof(Scheduler), typeof(KernelSim.Fs.Vfs), typeof(Genhd), typeof(DevTmpFs),
                     typeof(Sysfs), typeof(Procfs), typeof(NvdimmBus), typeof(DaxBus), typeof(KernelSim.Fs.Dax.FsDax) })
        {
            var x = a.Services.GetRequiredService(t);
            Assert.That(a.Services.GetRequiredService(t), Is.SameAs(x), $"{t.Name} is one object per machine");
            Assert.That(b.Services.GetRequiredService(t), Is.Not.SameAs(x), $"{t.Name} is not shared");
        }
        Assert.That(b.Pmem(), Is.Not.SameAs(a.Pmem()));
        Assert.That(b.Pmem().Disk, Is.Not.SameAs(a.Pmem().Disk));
    }

    [Test]
    public void BootedFromImage_EveryCoreServiceResolvesToTheMachinesOwnObject_OfTheContainersType()
    {
        var m = new MachineBuilder().Prepare().Boot();
        var sp = m.Services;
        Assert.That(sp.GetRequiredService<PhysicalMemory>(), Is.SameAs(m.Phys));
        Assert.That(sp.GetRequiredService<IMemoryMedia>(), Is.SameAs(m.Phys));
        Assert.That(sp.GetRequiredService<KernelMap>(), Is.SameAs(m.KernelMap));
        Assert.That(sp.GetRequiredService<IWorkQueue>(), Is.SameAs(m.WorkQueue));
        Assert.That(sp.GetRequiredService<IClockSource>(), Is.SameAs(m.Clock));
        Assert.That(sp.GetRequiredService<MachineState>(), Is.SameAs(m.State));
        Assert.That(sp.GetRequiredService<ExceptionTable>(), Is.SameAs(m.ExTable));
        Assert.That(sp.GetRequiredService<Scheduler>(), Is.SameAs(m.Scheduler));
        Assert.That(sp.GetRequiredService<MemoryFailure>(), Is.SameAs(m.MemoryFailure));
        Assert.That(sp.GetRequiredService<MachineCheck>(), Is.SameAs(m.Mce));
        Assert.That(sp.GetRequiredService<IErrorInjection>(), Is.SameAs(m.Einj));
        Assert.That(sp.GetRequiredService<Cpu>(), Is.SameAs(m.Cpu));
        Assert.That(sp.GetRequiredService<ICopyRoutines>(), Is.SameAs(m.Copy));
        Assert.That(sp.GetRequiredService<Gup>(), Is.SameAs(m.Gup));
        Assert.That(sp.GetRequiredService<KernelSim.Lib.IovIterOps>(), Is.SameAs(m.IovIter));
        Assert.That(sp.GetRequiredService<KernelSim.Lib.Usercopy>(), Is.SameAs(m.Usercopy));
        Assert.That(sp.GetRequiredService<KernelSim.Fs.IPageCache>(), Is.SameAs(m.Vfs.Filemap.PageCache));
        Assert.That(sp.GetRequiredService<KernelSim.Fs.Filemap>(), Is.SameAs(m.Vfs.Filemap));
        Assert.That(sp.GetRequiredService<KernelSim.Fs.Vfs>(), Is.SameAs(m.Vfs));
        Assert.That(sp.GetRequiredService<MachineOptions>(), Is.SameAs(m.Options));
        Assert.That(sp.GetRequiredService<KernelSim.Trace.Tracer>(), Is.SameAs(m.Tracer));
        Assert.That(sp.GetRequiredService<KernelProfile>(), Is.SameAs(m.Profile));
        Assert.That(sp.GetRequiredService<CpuModel>(), Is.SameAs(m.CpuModel));
        var built = new MachineBuilder().Build();
        var coreTypes = (HashSet<Type>)typeof(MachineBuilder)
            .GetField("CoreServiceTypes", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!.GetValue(null)!;
        foreach (var t in coreTypes)
            Assert.That(sp.GetRequiredService(t).GetType(), Is.EqualTo(built.Services.GetRequiredService(t).GetType()), t.Name);
    }

    [Test]
    public void AMachineOverwritingItsInfoBlock_TheImagesOtherMachinesKeepTheirs()
    {
        // Every machine of the image writes the same pfn info block at boot: its page is shared until a machine writes it.
        var image = Builder().Prepare();
        var a = image.Boot();
        var b = image.Boot();
        var at = new PhysAddr(a.Pmem().PhysAddr + PfnSb.Offset);
        var block = new byte[PfnSb.Size];
        b.Phys.PeekBytes(at, block);
        Assert.That(PfnSb.Parse(block).Signature, Is.EqualTo(PfnSb.PFN_SIG));
        a.Phys.PokeBytes(at, new byte[16]);
        var seen = new byte[PfnSb.Size];
        a.Phys.PeekBytes(at, seen);
        Assert.That(seen[..16], Is.All.Zero, "a's own write");
        Assert.That(seen[16..], Is.EqualTo(block[16..]));
        b.Phys.PeekBytes(at, seen);
        Assert.That(seen, Is.EqualTo(block), "b, booted before a's write");
        var c = image.Boot();
        Assert.That(c.Pmem().Mode, Is.EqualTo(NamespaceMode.Fsdax), "a later machine's probe finds its info block");
        c.Phys.PeekBytes(at, seen);
        Assert.That(seen, Is.EqualTo(block), "c, booted after it");
    }

    [Test]
    public void TwoMachinesOfOneImage_WritesPoisonAndSysfsOfOneDoNotReachTheOther()
    {
        var image = Builder().Prepare();
        var a = image.Boot();
        var b = image.Boot();
        var c = image.Boot();
        var untouched = Experiment(image.Boot());

        // Machine a: write the raw device, poison a line, let ARS fill the badblocks, flip a sysfs attribute.
        var pa = a.Spawn("dd");
        var buf = pa.MapAnonymous(4096);
        Assert.That(pa.Store(buf, Enumerable.Repeat((byte)0xA5, 4096).ToArray()).Done, Is.EqualTo(4096UL));
        var fd = (int)pa.Open("/dev/pmem0", Fcntl.O_RDWR);
        Assert.That(pa.Pwrite64(fd, buf, 4096, 1 << 20), Is.EqualTo(4096));
        Assert.That(pa.Fsync(fd), Is.Zero);
        Assert.That(a.InjectPoison(new PhysAddr(a.Pmem().DataPhys(2 << 20))), Is.Zero);
        Assert.That(Ndctl.Run(pa, "inject-error namespace0.0 --block=8 --count=8").Rc, Is.Zero);
        Assert.That(pa.ReadText("/sys/block/pmem0/badblocks", out var bbA), Is.Zero);
        Assert.That(bbA, Is.Not.Empty);
        Assert.That(a.Phys.PoisonedLines(), Is.Not.Empty);

        // Machines b and c, booted before a did any of that, and a machine booted after it, see none of it.
        var pb = b.Spawn("dd");
        Assert.That(pb.Pid, Is.EqualTo(pa.Pid), "pids are per machine");
        Assert.That(pb.ReadText("/sys/block/pmem0/badblocks", out var bbB), Is.Zero);
        Assert.That(bbB, Is.Empty);
        Assert.That(b.Phys.PoisonedLines(), Is.Empty);
        var page = new byte[4096];
        b.Phys.PeekBytes(new PhysAddr(b.Pmem().DataPhys(1 << 20)), page);
        Assert.That(page, Is.All.Zero);
        Assert.That(Experiment(c), Is.EqualTo(untouched), "a machine booted before a's writes behaves as if a did not exist");
        Assert.That(Experiment(image.Boot()), Is.EqualTo(untouched), "a later machine of the image starts from the image, not from a");
    }

    [Test]
    public void Prepare_FixesTheBuildersSettings_LaterChangesDoNotReachTheImage()
    {
        var builder = new MachineBuilder().WithKernel("6.12").WithDram(64UL << 20);
        var image = builder.Prepare();
        builder.WithKernel("5.10").WithDram(128UL << 20).WithTrace(true);
        var m = image.Boot();
        Assert.That(m.Profile.Version.ToString(), Is.EqualTo("6.12"));
        Assert.That(m.Dram.Size, Is.EqualTo(64UL << 20));
        Assert.That(m.Tracer.Enabled, Is.False);
        Assert.That(m.Options, Is.Not.SameAs(image.Boot().Options), "each machine has its own options");
        Assert.That(builder.Build().Profile.Version.ToString(), Is.EqualTo("5.10"));
    }

    [Test]
    public void InstancesRegisteredByTheCaller_AreSharedByTheImagesMachines_TypesAndFactoriesAreNot()
    {
        var einj = new Mock<IErrorInjection>();
        var builder = new MachineBuilder();
        builder.Services.AddSingleton(einj.Object);
        builder.Services.AddSingleton<ICopyRoutines, CopyRoutines>();
        var image = builder.Prepare();
        var a = image.Boot();
        var b = image.Boot();
        Assert.That(a.Einj, Is.SameAs(einj.Object));
        Assert.That(b.Einj, Is.SameAs(einj.Object), "an instance is the caller's object, shared");
        Assert.That(b.Copy, Is.Not.SameAs(a.Copy), "a type registration is created per machine");
        Assert.That(b.Phys, Is.Not.SameAs(a.Phys));
    }
}
