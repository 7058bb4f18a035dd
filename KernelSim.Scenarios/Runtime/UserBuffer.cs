using KernelSim.Scenarios.Model;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Runtime;

/// <summary>A named mapping of an actor as mmap returned it, with the pattern stored into it at setup.</summary>
internal sealed record UserBuffer(string Name, UserPtr Start, ulong Size, FillPattern Fill);
