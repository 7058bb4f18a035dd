namespace KernelSim.Scenarios.Exercises;

/// <summary>
/// An exercise: one scenario of a walkthrough with its expected values blanked (<c>___</c>) for a student to
/// predict, then graded by running the scenario (<see cref="ExerciseGrader"/>).
/// </summary>
/// <param name="Name">What `kernelsim exercise NAME` takes.</param>
/// <param name="Title">One line; it replaces the scenario's title, which may give answers away.</param>
/// <param name="Walkthrough">The walkthrough the scenario comes from.</param>
/// <param name="Scenario">The scenario's name in the walkthrough's file.</param>
/// <param name="Story">The setup, told without the results; it replaces the scenario's story.</param>
public sealed record Exercise(string Name, string Title, string Walkthrough, string Scenario, string Story);

/// <summary>The built-in exercises, one or two per walkthrough they come from.</summary>
public static class ExerciseRegistry
{
    public static IReadOnlyList<Exercise> All { get; } =
    [
        new("dax-read-6.12", "Predict the DAX read of latent poison on Linux 6.12", "dax-bypass", "dax-bypass-6.12",
            """
            A 64 MiB fsdax namespace (/dev/pmem0, ACPI NFIT) carries a daxfs filesystem mounted with dax=always. File F
            (64 KiB) sits at the start of the device, so file byte x is /dev/pmem0 byte x. EINJ puts latent poison in the
            64-byte line at file bytes 4160..4223. Deferred work (the NFIT machine-check notifier) runs only at run-work.
            Predict each read: through the block device and through the DAX mount, before and after the notifier ran.
            """),
        new("dax-read-4.17", "The same reads on Linux 4.17", "dax-bypass", "dax-bypass-4.17",
            """
            The machine of dax-read-6.12 on Linux 4.17, with the platform quirk that turns on memcpy_mcsafe. The same
            latent poison at file bytes 4160..4223. Predict the O_DIRECT read of /dev/pmem0 and the read of F through
            the DAX mount.
            """),
        new("mce-copy", "Predict what copy_mc_to_user returns", "mce-copy", "mce-copy",
            """
            A kernel buffer (kmalloc, DRAM) holds a pattern; EINJ puts latent poison in its 64-byte line 4992 bytes in.
            The kernel copies the 8 KiB buffer to a process with copy_mc_to_user on a CPU with ERMS. Predict the return
            value, which bytes arrive, the machine check and whether anyone gets a signal.
            """),
        new("user-sigbus", "Predict the signals of a poisoned load in user space", "user-sigbus", "user-sigbus",
            """
            Two processes share one page of a memfd-like object: "app" reads it, "watcher" only maps it (MAP_POPULATE)
            and asked for early kills with prctl(PR_MCE_KILL, PR_MCE_KILL_SET, PR_MCE_KILL_EARLY). Both catch SIGBUS.
            A private buffer of app gets a latent poisoned line, then the shared page does. Predict each signal: its
            code, its address and its si_addr_lsb.
            """),
        new("copyin-5.10", "Predict a write(2) from a poisoned user buffer on Linux 5.10", "copyin-years", "copyin-5.10",
            """
            A process writes 4096 bytes from a buffer whose line at offset 0x200 is poisoned to a ramfs file, on Linux
            5.10. The process has no SIGBUS handler. Predict what write returns, the machine check, the signal, and
            what the file holds afterwards.
            """),
    ];

    public static Exercise? Find(string name) => All.FirstOrDefault(e => e.Name == name);
}
