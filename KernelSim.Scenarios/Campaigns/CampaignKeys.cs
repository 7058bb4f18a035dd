using KernelSim.Scenarios.Yaml;
using static KernelSim.Scenarios.Yaml.YamlShape;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>
/// The keys of a campaign file, one <see cref="KeyTable"/> per mapping <see cref="CampaignParser"/> reads; the
/// workload and fault keys are <see cref="CampaignSpec.WorkloadNames"/> and <see cref="CampaignSpec.FaultNames"/>.
/// docs/schemas/campaign.schema.json is generated from them.
/// </summary>
internal static class CampaignKeys
{
    public static readonly KeyTable Machine = new("campaign machine", "cpu", "dram", "pmem", new YamlKey("devdax-align", AnyOf(Scalar, List(Scalar))));

    public static readonly KeyTable Workloads = new("workloads", [.. CampaignSpec.WorkloadNames.Select(w => new YamlKey(w.Name, Scalar))]);

    public static readonly KeyTable Faults = new("faults", [.. CampaignSpec.FaultNames.Select(f => new YamlKey(f.Name, Scalar))]);

    public static readonly KeyTable Top = new("campaign",
        new YamlKey("campaign", Scalar, Required: true),
        "title",
        new YamlKey("machine", Map(Machine)),
        new YamlKey("profiles", List(Scalar), Required: true),
        "seeds",
        "operations",
        new YamlKey("swarm", Bool),
        new YamlKey("workloads", Map(Workloads), Required: true),
        new YamlKey("faults", Map(Faults)));
}
