using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// Boots a guest program under QEMU (TCG): compiles it with the host's gcc as a static binary, builds an
/// initramfs from busybox-static, the program, its init script and the kernel package's modules, and runs
/// qemu-system-x86_64 with the program's pmem (an NVDIMM on `-machine pc,nvdimm=on`, or legacy memmap= pmem) on
/// the serial console, bounded by a timeout. A panic (panic=-1 and -no-reboot end QEMU at once) and a hang
/// are outcomes, not errors.
/// </summary>
public sealed class QemuGuestRunner(TimeSpan timeout) : IGuestRunner
{
    /// <summary>The boot timeout.</summary>
    public TimeSpan Timeout { get; } = timeout;

    /// <summary>What is missing on this host for a boot, or null when qemu-system-x86_64, gcc and busybox are there.</summary>
    public static string? Missing() =>
        Tools.Which("qemu-system-x86_64") == null ? "qemu-system-x86_64 is not installed (apt-get install qemu-system-x86)"
        : Tools.Which("gcc") == null ? "gcc is not installed"
        : Busybox() == null ? "busybox-static is not installed (/bin/busybox)"
        : null;

    private static string? Busybox() => new[] { "/bin/busybox", "/usr/bin/busybox" }.FirstOrDefault(File.Exists);

    /// <inheritdoc/>
    public GuestRunResult Run(GuestProgram program, KernelImage kernel)
    {
        if (Missing() is { } why) return new GuestRunResult(GuestRunOutcome.Failed, "", why);
        var work = Directory.CreateTempSubdirectory("kernelsim-crosscheck-").FullName;
        try
        {
            File.WriteAllText(Path.Combine(work, "guest.c"), program.CSource);
            var guest = Path.Combine(work, "ks-guest");
            Tools.Run("gcc", work, TimeSpan.FromMinutes(2), "-static", "-O1", "-o", guest, "guest.c");
            var initrd = Path.Combine(work, "initrd.gz");
            File.WriteAllBytes(initrd, BuildInitramfs(program, kernel, File.ReadAllBytes(guest)).Gzip());
            return Boot(program, kernel, initrd);
        }
        catch (CrosscheckException e)
        {
            return new GuestRunResult(GuestRunOutcome.Failed, "", e.Message);
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    /// <summary>busybox, /init, /modules.sh (insmod in dependency order), the program and the modules.</summary>
    internal static Initramfs BuildInitramfs(GuestProgram program, KernelImage kernel, byte[] guest)
    {
        var fs = new Initramfs().Dir("bin").Dir("dev").Dir("proc").Dir("sys").Dir("mnt").Dir("lib").Dir("lib/modules").CharDev("dev/console", 5, 1);
        fs.File("bin/busybox", File.ReadAllBytes(Busybox()!), 0x1ed);
        fs.File("init", Encoding.ASCII.GetBytes(program.InitScript), 0x1ed);
        fs.File("ks-guest", guest, 0x1ed);
        var sh = new StringBuilder();
        foreach (var (name, path) in DebianKernelPackages.Modules(kernel, program.Platform.Modules))
        {
            fs.File($"lib/modules/{name}.ko", File.ReadAllBytes(path));
            sh.Append(CultureInfo.InvariantCulture, $"insmod /lib/modules/{name}.ko || fail \"insmod {name}\"\n");
        }
        fs.File("modules.sh", Encoding.ASCII.GetBytes(sh.ToString()));
        return fs;
    }

    /// <summary>The QEMU command line for a program's platform.</summary>
    internal static List<string> Arguments(GuestPlatform p, KernelImage kernel, string initrd)
    {
        var append = "console=ttyS0 loglevel=1 panic=-1 mitigations=off";
        var args = new List<string>();
        if (p.PmemSize > 0 && !p.E820)
        {
            args.AddRange(["-machine", "pc,nvdimm=on", "-m", $"{GuestPlatform.RamMiB}M,slots=2,maxmem=4G",
                "-object", $"memory-backend-ram,id=pm0,size={p.PmemSize}", "-device", "nvdimm,id=nv0,memdev=pm0"]);
        }
        else
        {
            args.AddRange(["-machine", "pc", "-m", $"{GuestPlatform.RamMiB}M"]);
            if (p.PmemSize > 0) append += $" memmap={p.PmemSize >> 20}M!{GuestPlatform.E820Start >> 20}M";
        }
        args.AddRange(["-cpu", "max", "-smp", "1", "-kernel", kernel.Vmlinuz, "-initrd", initrd, "-append", append,
            "-nographic", "-no-reboot", "-monitor", "none", "-serial", "stdio"]);
        return args;
    }

    private GuestRunResult Boot(GuestProgram program, KernelImage kernel, string initrd)
    {
        var psi = new ProcessStartInfo("qemu-system-x86_64") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var a in Arguments(program.Platform, kernel, initrd)) psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var console = new StringBuilder();
        var errors = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data != null) lock (console) console.Append(e.Data).Append('\n'); };
        p.ErrorDataReceived += (_, e) => { if (e.Data != null) lock (errors) errors.Append(e.Data).Append('\n'); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(Timeout))
        {
            p.Kill(entireProcessTree: true);
            p.WaitForExit();
            string text;
            lock (console) text = console.ToString();
            var o = GuestOutput.Parse(text);
            return new GuestRunResult(GuestRunOutcome.TimedOut, text, $"no power-off within {Timeout.TotalSeconds:0} s (last step begun: {o.LastBegun})");
        }
        p.WaitForExit();
        var output = console.ToString();
        if (Environment.GetEnvironmentVariable("KERNELSIM_CROSSCHECK_CONSOLE") is { Length: > 0 } dump)
            File.WriteAllText(Path.Combine(dump, $"{program.Scenario}-{kernel.Release}.console.txt"), output);
        var parsed = GuestOutput.Parse(output);
        if (parsed.Panic != null) return new GuestRunResult(GuestRunOutcome.Panicked, output, parsed.Panic);
        if (!parsed.Finished)
            return new GuestRunResult(GuestRunOutcome.Failed, output, $"qemu exited ({p.ExitCode}) before the program finished: {errors.ToString().Trim()}");
        return new GuestRunResult(GuestRunOutcome.Completed, output, null);
    }
}
