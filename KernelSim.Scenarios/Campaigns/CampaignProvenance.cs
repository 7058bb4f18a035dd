using System.Reflection;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// Where a result comes from: the simulator version (the informational version the build stamps into the
/// assembly: VERSION+COMMIT, see Directory.Build.props) and a hash of the campaign as the engine sees it.
/// </summary>
public static class CampaignProvenance
{
    /// <summary>The simulator version, e.g. "1.0.0+8214a1823024a6e29d9580db70f8ce17b5107c1d".</summary>
    public static string SimulatorVersion { get; } =
        typeof(CampaignProvenance).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// SHA-256 (hex) of the normalised spec: every setting that changes what a seed does (name, machine,
    /// profiles, operations, swarm, workload and fault weights), written as canonical JSON. Not the seed range
    /// (shards and --seeds differ in it), the title, the file's path, comments or key order.
    /// </summary>
    public static string SpecHash(CampaignSpec spec)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms))
        {
            w.WriteStartObject();
            w.WriteString("campaign", spec.Name);
            w.WriteString("cpu", spec.Cpu.Name);
            w.WriteNumber("dram", spec.Dram);
            w.WriteNumber("pmem", spec.PmemSize);
            // Only when not the default 2M alone, so the hash of every campaign without the key stays what it was.
            if (spec.DevdaxAligns is not [2UL << 20])
            {
                w.WriteStartArray("devdax-align");
                foreach (var a in spec.DevdaxAligns) w.WriteNumberValue(a);
                w.WriteEndArray();
            }
            w.WriteStartArray("profiles");
            foreach (var p in spec.Profiles) w.WriteStringValue(p.ToString());
            w.WriteEndArray();
            w.WriteNumber("operations", spec.Operations);
            w.WriteBoolean("swarm", spec.Swarm);
            w.WriteStartObject("workloads");
            foreach (var (k, n) in spec.Workloads) w.WriteNumber(CampaignSpec.NameOf(k), n);
            w.WriteEndObject();
            w.WriteStartObject("faults");
            foreach (var (k, n) in spec.Faults) w.WriteNumber(CampaignSpec.NameOf(k), n);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return Convert.ToHexStringLower(SHA256.HashData(ms.ToArray()));
    }

    /// <summary>The header of a run of <paramref name="spec"/> over <paramref name="seeds"/>.</summary>
    public static CampaignHeader Header(CampaignSpec spec, SeedSet seeds) =>
        new(CampaignHeader.HeaderType, spec.Name, SimulatorVersion, SpecHash(spec), spec.Profiles.Select(p => p.ToString()).ToList(),
            new SeedRange(seeds.First, seeds.Last), new ShardOf(seeds.ShardIndex, seeds.ShardCount));
}
