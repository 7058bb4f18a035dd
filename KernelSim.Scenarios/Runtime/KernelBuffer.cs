using KernelSim.Scenarios.Model;
using KernelSim.Mm;

namespace KernelSim.Scenarios.Runtime;

/// <summary>A named kmalloc'd kernel buffer with the pattern written into it.</summary>
internal sealed record KernelBuffer(string Name, KernelPtr Start, ulong Size, FillPattern Fill);
