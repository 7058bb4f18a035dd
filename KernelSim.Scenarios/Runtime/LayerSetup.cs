using KernelSim.Scenarios.Model;
using KernelSim.Drivers.Pmem;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Fs.Dax;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Scenarios.Runtime;

/// <summary>
/// Builds the storage layers of a scenario's machine: the pmem region (attached at boot), the daxfs
/// filesystems (formatted and mounted at setup) and the virtio-fs shares (host files created, mounted at boot).
/// </summary>
internal static class LayerSetup
{
    /// <summary>Add pmem and virtio-fs to the builder (they attach when the machine boots).</summary>
    public static void Configure(MachineBuilder builder, MachineSpec ms)
    {
        if (ms.Pmem is { } p)
        {
            builder.AddPmem(o =>
            {
                o.LegacyE820 = p.E820;
                if (p.Qemu) o.Platform = NvdimmPlatform.Qemu;
                o.RegionSize = p.RegionSize;
                o.ClearErrUnit = p.ClearErrUnit;
                o.HwErrorScrub = p.HwErrorScrub;
                o.Namespaces.AddRange(p.Namespaces);
            });
        }
        if (ms.Filesystems.Count > 0) builder.AddDaxFs();
        foreach (var v in ms.Virtiofs)
        {
            var options = new VirtioFsOptions { Tag = v.Tag, MountPoint = v.Mount, WindowBytes = v.Window, Dax = v.Dax, HostFaultPolicy = v.Policy };
            builder.AddVirtioFs(options, share =>
            {
                foreach (var f in v.Files)
                {
                    if (f.Fill is { } fill) share.Host.CreateFile(f.Name, (long)f.Size, f.NodeId, data: fill.Bytes(0, (int)f.Size));
                    else share.Host.CreateFile(f.Name, (long)f.Size, f.NodeId);
                }
            });
        }
    }

    /// <summary>Format and mount the filesystems; name the shares; describe all of it in the setup lines.</summary>
    public static void Mount(ScenarioRun run, ScenarioResult result)
    {
        var m = run.Machine;
        var ms = run.Scenario.Machine;
        if (ms.Pmem is { } p)
        {
            result.Setup.Add($"pmem: {(p.E820 ? "legacy e820" : p.Qemu ? "QEMU NFIT (no ARS, injection or clear-error)" : "ACPI NFIT")} region, clear_err_unit {p.ClearErrUnit}{(p.HwErrorScrub ? ", hw error scrub" : "")}");
            for (var i = 0; i < p.Namespaces.Count; i++)
            {
                if (p.Namespaces[i].Mode is not (NamespaceMode.Raw or NamespaceMode.Fsdax)) continue;
                if (Nvdimm.Find(m, $"pmem{i}") is { } dev) result.Setup.Add($"  /dev/pmem{i}: {dev}");
                else result.SetupErrors.Add($"pmem{i}: not attached");
            }
            // devdax and sector namespaces: the device-dax instance or the BTT disk of each bound claim device.
            var claims = m.NvdimmBus()!.Regions.SelectMany(r => r.Claims).ToList();
            foreach (var c in claims)
            {
                if (c.DevDax is { } dax) result.Setup.Add($"  /dev/{dax.Name}: {dax} (dax_pmem on {c.Name})");
                if (c.Btt is { Disk: { } disk } btt) result.Setup.Add($"  /dev/{disk.Name}: {btt} (nd_pmem on {c.Name})");
            }
            var modes = p.Namespaces.Count(n => n.Mode is NamespaceMode.Devdax or NamespaceMode.Sector);
            if (claims.Count(c => c.DevDax != null || c.Btt != null) < modes) result.SetupErrors.Add("a devdax or sector namespace is not attached");
        }
        foreach (var f in ms.Filesystems)
        {
            if (Nvdimm.Find(m, f.Device) is not { } dev)
            {
                result.SetupErrors.Add($"daxfs on {f.Mount}: no device {f.Device}");
                continue;
            }
            var options = new DaxFsOptions { MountPoint = f.Mount, Dax = f.Dax, FailureRoute = f.Route, HugeFaults = f.HugeFaults };
            var r = DaxFs.Mount(m, dev.Disk, DaxFsVolume.Format(dev.Disk.SizeBytes), options, out var fs);
            if (r < 0 || fs == null)
            {
                result.SetupErrors.Add($"mount daxfs /dev/{f.Device} on {f.Mount}: {Errno.Describe(r)}");
                continue;
            }
            run.DaxMounts[f.Mount] = fs;
            result.Setup.Add($"mkfs + mount /dev/{f.Device}: {fs}");
        }
        var shares = VirtioFs.Shares(m);
        for (var i = 0; i < ms.Virtiofs.Count; i++)
        {
            var v = ms.Virtiofs[i];
            if (i >= shares.Count)
            {
                result.SetupErrors.Add($"virtio-fs {v.Name}: not attached");
                continue;
            }
            var share = shares[i];
            run.Shares[v.Name] = share;
            var window = v.Window == 0 ? "no DAX window" : $"DAX window {v.Window >> 20} MiB";
            var mode = v.Dax.ToString().ToLowerInvariant();
            result.Setup.Add($"virtio-fs \"{v.Tag}\" on {v.Mount}{(share.Fs == null ? " (NOT mounted)" : "")}: dax={mode}, {window}, host fault policy {ScenarioParser.PolicyName(v.Policy)}");
            if (share.Fs == null) result.SetupErrors.Add($"virtio-fs {v.Name}: mount failed (see dmesg)");
            foreach (var f in v.Files)
            {
                var hf = share.Host[f.Name];
                result.Setup.Add($"  host file {f.Name}: {hf?.Size ?? -1} bytes, node {hf?.NodeId.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "?"}, {(f.Fill != null ? $"fill {f.Fill}" : "the host pattern (i*7+13) % 251")}");
            }
        }
    }
}
