using KernelSim.Drivers.Pmem;
using KernelSim.Kernel;
using Microsoft.Extensions.DependencyInjection;
using Moq;

namespace KernelSim.Tests.Composition;

/// <summary>
/// The workqueue seam (<see cref="IWorkQueue"/>) replaced by a Moq double that records schedule_work and holds the
/// work back: the NFIT error notification of an ndctl inject-error waits in the double, and badblocks change only
/// when the test runs the captured work.
/// </summary>
public class WorkQueueDoubleTests
{
    [Test]
    public void InjectError_NotificationIsHeldByTheDouble_BadblocksAppearOnlyWhenItRuns()
    {
        var held = new List<(string Name, Action Work)>();
        var wq = new Mock<IWorkQueue>(MockBehavior.Strict);
        wq.SetupProperty(w => w.Timing);
        wq.Setup(w => w.Schedule(It.IsAny<string>(), It.IsAny<Action>())).Callback((string name, Action work) => held.Add((name, work)));
        wq.Setup(w => w.RunPending()).Returns(0); // ndctl's sleep lets the worker run: the double runs nothing
        wq.SetupGet(w => w.Pending).Returns(() => held.Count);
        var builder = new MachineBuilder().WithKernel("6.12").WithWorkTiming(WorkTiming.Manual).AddPmem(new PmemNamespaceSpec(64UL << 20));
        builder.Services.AddSingleton(wq.Object);
        var m = builder.Build();
        Assert.That(held, Is.Empty, "nothing deferred at boot");

        Assert.That(Ndctl.Run(m.Spawn("ndctl"), "inject-error namespace0.0 -B 8 -n 1").Rc, Is.Zero);

        Assert.That(held.Select(h => h.Name), Is.EqualTo(new[] { "acpi_nfit_uc_error_notify" }));
        Assert.That(m.Pmem().Disk.BadblocksShow(), Is.Empty, "the notification has not run");
        var work = held[0].Work;
        held.Clear();
        m.Run(() =>
        {
            work();
            return 0;
        });
        Assert.That(held.Select(h => h.Name), Is.EqualTo(new[] { "acpi_nfit_scrub(ars_complete)" }), "the notify handler starts ARS");
        m.Run(() =>
        {
            held[0].Work();
            return 0;
        });
        Assert.That(m.Pmem().Disk.BadblocksShow(), Is.EqualTo("8 1\n"));
    }
}
