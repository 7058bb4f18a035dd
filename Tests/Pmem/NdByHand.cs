using KernelSim.Tests.Infrastructure;
using KernelSim.Kernel;
using KernelSim.Uapi;

namespace KernelSim.Tests.Pmem;

/// <summary>
/// A user changing a label-less namespace's mode without ndctl: only sysfs writes (and, to zero an info block, O_DIRECT
/// I/O on the raw disk), in the order ndctl's create-namespace -f -e issues them. Each write's return is checked.
/// </summary>
internal sealed class NdByHand(Process p, string ns = "namespace0.0")
{
    public const string Nd = "/sys/bus/nd/devices";
    private const string NdPmem = "/sys/bus/nd/drivers/nd_pmem", DaxPmem = "/sys/bus/nd/drivers/dax_pmem";

    public Process P { get; } = p;

    /// <summary>"region0" for "namespace0.N".</summary>
    public string Region => "region" + ns["namespace".Length..ns.IndexOf('.')];

    /// <summary>nvdimm_namespace_disk_name without a claim: pmemR for index 0 (and every nd_namespace_io), pmemR.N otherwise.</summary>
    public string RawDisk => ns.EndsWith(".0", StringComparison.Ordinal) ? "pmem" + ns["namespace".Length..ns.IndexOf('.')] : "pmem" + ns["namespace".Length..];

    public string Cat(string rel) => Sim.Cat(P, $"{Nd}/{rel}").TrimEnd('\n');

    private void Write(string path, string text) =>
        Assert.That(P.WriteText(path, text), Is.EqualTo(text.Length), $"echo '{text.TrimEnd('\n')}' > {path}");

    /// <summary>The claim holding the namespace is unbound and released, the namespace unbound (ndctl_namespace_disable_invalidate).</summary>
    public void Disable()
    {
        var holder = Cat($"{ns}/holder");
        if (holder != "")
        {
            if (P.ReadLink($"{Nd}/{holder}/driver", out _) == 0) Write($"{Nd}/{holder}/driver/unbind", holder);
            Write($"{Nd}/{holder}/namespace", "\n");
        }
        if (P.ReadLink($"{Nd}/{ns}/driver", out _) == 0) Write($"{NdPmem}/unbind", ns);
    }

    /// <summary>
    /// zero_info_block: force_raw, bind, read the first 8 KiB of the raw disk (returned), write zeros over them unless they
    /// are zero, then force_raw off and unbind.
    /// </summary>
    public byte[] ZeroInfoBlock() => ForceRaw(zero: true);

    /// <summary>The first 8 KiB of the namespace read through force_raw (the namespace left unbound, force_raw off).</summary>
    public byte[] ReadThroughForceRaw() => ForceRaw(zero: false);

    private byte[] ForceRaw(bool zero)
    {
        Write($"{Nd}/{ns}/force_raw", "1\n");
        Write($"{NdPmem}/bind", ns);
        var disk = P.ListDir($"{Nd}/{ns}/block", out var names) == 0 && names.Count == 1 ? names[0] : RawDisk;
        var fd = (int)P.Open($"/dev/{disk}", Fcntl.O_RDWR | Fcntl.O_DIRECT);
        Assert.That(fd, Is.GreaterThanOrEqualTo(0));
        var u = P.MapAnonymous(16384);
        Assert.That(P.Pread64(fd, u, 8192, 0), Is.EqualTo(8192));
        var head = new byte[8192];
        P.Load(u, head);
        if (zero && Array.Exists(head, b => b != 0)) Assert.That(P.Pwrite64(fd, u + 8192UL, 8192, 0), Is.EqualTo(8192));
        P.Close(fd);
        Write($"{Nd}/{ns}/force_raw", "0\n");
        Write($"{NdPmem}/unbind", ns);
        return head;
    }

    /// <summary>The namespace back in raw mode: disable, zero the info block (returned), holder_class "", bind.</summary>
    public byte[] ToRaw()
    {
        Disable();
        Write($"{Nd}/{ns}/holder_class", "\n");
        var head = ZeroInfoBlock();
        Write($"{NdPmem}/bind", ns);
        return head;
    }

    /// <summary>fsdax or devdax: the region's pfn or dax seed gets uuid, mode (memmap location), align and the namespace, then binds.</summary>
    public string ToPfnOrDax(bool dax, string uuid, ulong align, string location = "pmem")
    {
        Disable();
        Write($"{Nd}/{ns}/holder_class", dax ? "dax\n" : "pfn\n");
        var seed = Cat($"{Region}/{(dax ? "dax" : "pfn")}_seed");
        Write($"{Nd}/{seed}/uuid", uuid + "\n");
        Write($"{Nd}/{seed}/mode", location + "\n");
        Write($"{Nd}/{seed}/align", $"{align}\n");
        Write($"{Nd}/{seed}/namespace", ns + "\n");
        Write($"{(dax ? DaxPmem : NdPmem)}/bind", seed);
        return seed;
    }

    /// <summary>sector: the btt seed gets uuid, sector_size and the namespace, then nd_pmem binds it.</summary>
    public string ToSector(string uuid, uint sectorSize)
    {
        Disable();
        Write($"{Nd}/{ns}/holder_class", "btt\n");
        var seed = Cat($"{Region}/btt_seed");
        Write($"{Nd}/{seed}/uuid", uuid + "\n");
        Write($"{Nd}/{seed}/sector_size", $"{sectorSize}\n");
        Write($"{Nd}/{seed}/namespace", ns + "\n");
        Write($"{NdPmem}/bind", seed);
        return seed;
    }
}
