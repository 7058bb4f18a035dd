using System.Text.RegularExpressions;
using KernelSim.Profiles;

namespace KernelSim.Scenarios.Crosscheck;

/// <summary>
/// Debian kernel packages: `apt-get download` into a per-package cache directory, `dpkg-deb -x` (no install), and
/// modules decompressed on demand (.ko.xz with xz, .ko.zst with zstd) with their "depends=" from .modinfo.
/// The cache is $KERNELSIM_CROSSCHECK_CACHE, else $XDG_CACHE_HOME/kernelsim/crosscheck, else ~/.cache/kernelsim/crosscheck.
/// </summary>
public sealed partial class DebianKernelPackages : IKernelPackages
{
    /// <summary>The cache root.</summary>
    public static string CacheRoot =>
        Environment.GetEnvironmentVariable("KERNELSIM_CROSSCHECK_CACHE") is { Length: > 0 } c ? c
        : Path.Combine(Environment.GetEnvironmentVariable("XDG_CACHE_HOME") is { Length: > 0 } x ? x
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache"), "kernelsim", "crosscheck");

    /// <summary>The simulator profile of a package name (linux-image-6.1.0-57-amd64-unsigned → 6.1), or null.</summary>
    public static KernelVersion? VersionOf(string package)
    {
        var m = PackageName().Match(package);
        return m.Success && KernelVersion.TryParse($"{m.Groups[1].Value}.{m.Groups[2].Value}", out var v) ? v : null;
    }

    /// <summary>The already-unpacked package, or null (no download).</summary>
    public static KernelImage? Cached(string package)
    {
        var dir = Path.Combine(CacheRoot, package);
        return System.IO.File.Exists(Path.Combine(dir, ".ready")) ? Image(package, dir) : null;
    }

    /// <inheritdoc/>
    public KernelImage Prepare(string package)
    {
        if (VersionOf(package) == null || !SafeName().IsMatch(package))
            throw new CrosscheckException($"{package}: not a Debian kernel image package name (e.g. linux-image-6.12.118+deb12-amd64-unsigned)");
        if (Cached(package) is { } img) return img;
        var dir = Path.Combine(CacheRoot, package);
        var dl = Path.Combine(dir, "download");
        Directory.CreateDirectory(dl);
        Tools.Run("apt-get", dl, TimeSpan.FromMinutes(10), "download", package);
        var deb = Directory.GetFiles(dl, "*.deb").SingleOrDefault() ?? throw new CrosscheckException($"apt-get download {package} left no .deb in {dl}");
        Tools.Run("dpkg-deb", dir, TimeSpan.FromMinutes(10), "-x", deb, Path.Combine(dir, "root"));
        System.IO.File.Delete(deb);
        var image = Image(package, dir);
        System.IO.File.WriteAllText(Path.Combine(dir, ".ready"), image.Release + "\n");
        return image;
    }

    private static KernelImage Image(string package, string dir)
    {
        var root = Path.Combine(dir, "root");
        var vmlinuz = Directory.GetFiles(Path.Combine(root, "boot"), "vmlinuz-*").SingleOrDefault() ?? throw new CrosscheckException($"{package}: no boot/vmlinuz-* in the package");
        var release = Path.GetFileName(vmlinuz)["vmlinuz-".Length..];
        var modules = Path.Combine(root, "lib", "modules", release);
        return new KernelImage(package, release, VersionOf(package)!.Value, vmlinuz, modules, dir);
    }

    /// <summary>
    /// The named modules and everything they depend on, decompressed into the package's cache, in load order
    /// (dependencies first). Modules built into the kernel (no .ko) are left out.
    /// </summary>
    public static IReadOnlyList<(string Name, string Path)> Modules(KernelImage k, IEnumerable<string> names)
    {
        var files = Directory.EnumerateFiles(k.ModulesDir, "*.ko*", SearchOption.AllDirectories)
            .GroupBy(f => Normalize(Path.GetFileName(f)[..Path.GetFileName(f).IndexOf(".ko", StringComparison.Ordinal)]))
            .ToDictionary(g => g.Key, g => g.First());
        var order = new List<(string, string)>();
        var seen = new HashSet<string>();
        void Visit(string name)
        {
            name = Normalize(name);
            if (!seen.Add(name) || !files.TryGetValue(name, out var src)) return;
            var ko = Decompress(k, name, src);
            foreach (var dep in Depends(System.IO.File.ReadAllBytes(ko))) Visit(dep);
            order.Add((name, ko));
        }
        foreach (var n in names) Visit(n);
        return order;
    }

    private static string Normalize(string name) => name.Replace('-', '_');

    private static string Decompress(KernelImage k, string name, string src)
    {
        var dir = Path.Combine(k.CacheDir, "modules");
        Directory.CreateDirectory(dir);
        var dst = Path.Combine(dir, name + ".ko");
        if (System.IO.File.Exists(dst)) return dst;
        var tmp = dst + ".tmp";
        if (src.EndsWith(".ko", StringComparison.Ordinal)) System.IO.File.Copy(src, tmp, true);
        else if (src.EndsWith(".ko.xz", StringComparison.Ordinal)) System.IO.File.WriteAllBytes(tmp, Tools.Output("xz", "-dc", src));
        else if (src.EndsWith(".ko.zst", StringComparison.Ordinal)) System.IO.File.WriteAllBytes(tmp, Tools.Output("zstd", "-dc", src));
        else if (src.EndsWith(".ko.gz", StringComparison.Ordinal)) System.IO.File.WriteAllBytes(tmp, Tools.Output("gzip", "-dc", src));
        else throw new CrosscheckException($"{src}: unknown module compression");
        System.IO.File.Move(tmp, dst, true);
        return dst;
    }

    /// <summary>The "depends=a,b" entry of a module's .modinfo section (scripts/mod/modpost.c writes it).</summary>
    internal static IEnumerable<string> Depends(byte[] ko)
    {
        var key = "\0depends="u8;
        var i = ko.AsSpan().IndexOf(key);
        if (i < 0) return [];
        var start = i + key.Length;
        var end = ko.AsSpan(start).IndexOf((byte)0);
        var text = System.Text.Encoding.ASCII.GetString(ko, start, end < 0 ? 0 : end);
        return text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
    }

    [GeneratedRegex(@"^linux-image-(\d+)\.(\d+)")]
    private static partial Regex PackageName();

    [GeneratedRegex(@"^[a-z0-9][a-z0-9.+~-]*$")]
    private static partial Regex SafeName();
}
