using KernelSim.Kernel;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Runtime;

/// <summary>A running actor: its process, named mappings and named file descriptors.</summary>
internal sealed class ActorState(string name, Process process)
{
    public string Name { get; } = name;
    public Process Process { get; } = process;
    public Dictionary<string, UserBuffer> Mappings { get; } = new(StringComparer.Ordinal);
    public Dictionary<string, int> Fds { get; } = new(StringComparer.Ordinal);

    /// <summary>The path each named descriptor was opened with.</summary>
    public Dictionary<string, string> FdPaths { get; } = new(StringComparer.Ordinal);

    /// <summary>A page the runner maps on first use to hold iovec arrays of readv/writev steps without vec:.</summary>
    public UserPtr? Scratch { get; set; }

    /// <summary>"reader[1000]".</summary>
    public string Who => $"{Process.Comm}[{Process.Pid}]";
}
