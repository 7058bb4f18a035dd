using System.Globalization;

namespace KernelSim.Cli.Commands;

/// <summary>
/// The shard of a campaign run by a batch engine, from the variables the engine sets (docs/scale-out.md):
/// a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with KERNELSIM_SHARDS (the Job's completions, which
/// Kubernetes does not pass to the pod), or a Slurm array's SLURM_ARRAY_TASK_ID, SLURM_ARRAY_TASK_MIN and
/// SLURM_ARRAY_TASK_COUNT. --shard wins over both; Kubernetes over Slurm.
/// </summary>
internal static class ShardEnvironment
{
    public const string K8sIndex = "JOB_COMPLETION_INDEX";
    public const string K8sCount = "KERNELSIM_SHARDS";
    public const string SlurmId = "SLURM_ARRAY_TASK_ID";
    public const string SlurmMin = "SLURM_ARRAY_TASK_MIN";
    public const string SlurmCount = "SLURM_ARRAY_TASK_COUNT";
    public const string SlurmStep = "SLURM_ARRAY_TASK_STEP";

    /// <summary>
    /// The shard (0/1 when nothing is set). False with a message naming the variables when they are set but
    /// unusable.
    /// </summary>
    public static bool TryResolve(string? option, Func<string, string?> env, out int index, out int count, out string? source, out string? error)
    {
        index = 0;
        count = 1;
        source = null;
        error = null;
        if (option != null)
        {
            var parts = option.Split('/');
            if (parts.Length == 2 && Int(parts[0], out index) && Int(parts[1], out count) && count >= 1 && index < count)
            {
                source = "--shard";
                return true;
            }
            error = $"--shard '{option}': expected I/N with 0 <= I < N";
            return false;
        }
        var ki = env(K8sIndex);
        if (!string.IsNullOrEmpty(ki))
        {
            var kn = env(K8sCount);
            if (string.IsNullOrEmpty(kn))
                error = $"{K8sIndex}={ki} is set (a Kubernetes Indexed Job) but {K8sCount} is not: set {K8sCount} to the Job's completions";
            else if (!Int(ki, out index) || !Int(kn, out count) || count < 1)
                error = $"{K8sIndex}={ki}, {K8sCount}={kn}: expected a non-negative index and a shard count of at least 1";
            else if (index >= count)
                error = $"{K8sIndex}={ki} is not below {K8sCount}={kn}: set {K8sCount} to the Job's completions";
            source = $"{K8sIndex}/{K8sCount}";
            return error == null;
        }
        var si = env(SlurmId);
        if (!string.IsNullOrEmpty(si))
        {
            var sn = env(SlurmCount);
            var smin = env(SlurmMin);
            var step = env(SlurmStep);
            var min = 0;
            if (string.IsNullOrEmpty(sn))
                error = $"{SlurmId}={si} is set (a Slurm job array) but {SlurmCount} is not";
            else if (!Int(si, out var id) || !Int(sn, out count) || count < 1 || !string.IsNullOrEmpty(smin) && !Int(smin, out min))
                error = $"{SlurmId}={si}, {SlurmMin}={smin}, {SlurmCount}={sn}: expected non-negative numbers";
            else if (!string.IsNullOrEmpty(step) && step != "1")
                error = $"{SlurmStep}={step}: give the array consecutive task ids (--array=0-{count - 1}), one per shard";
            else if ((index = id - min) < 0 || index >= count)
                error = $"{SlurmId}={si} minus {SlurmMin}={min} is not below {SlurmCount}={sn}: give the array consecutive task ids (--array=0-{count - 1})";
            source = $"{SlurmId}/{SlurmCount}";
            if (error != null) (index, count) = (0, 1);
            return error == null;
        }
        return true;
    }

    private static bool Int(string s, out int v) => int.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out v);
}
