using System.Runtime.CompilerServices;
using KernelSim.Kernel;

namespace KernelSim.Fs.Dax;

/// <summary>
/// inode-&gt;i_rwsem (a struct rw_semaphore): shared for DAX reads, exclusive for writes, truncate and fallocate.
/// The simulation is single-threaded, so "another task holds it" is set up explicitly (<see cref="HoldShared"/>,
/// <see cref="HoldExclusive"/>); a blocking acquire that would have to wait for such a holder never returns
/// (the task would sleep until the holder releases, which in a scenario never happens).
/// </summary>
public sealed class RwSemaphore
{
    /// <summary>Readers holding it (including other tasks').</summary>
    public int Readers { get; private set; }
    /// <summary>True while a writer holds it.</summary>
    public bool Writer { get; private set; }

    /// <summary>down_read_trylock.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public bool TryDownRead()
    {
        if (Writer) return false;
        Readers++;
        return true;
    }

    /// <summary>down_write_trylock.</summary>
    public bool TryDownWrite()
    {
        if (Writer || Readers > 0) return false;
        Writer = true;
        return true;
    }

    /// <summary>down_read (inode_lock_shared).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void DownRead()
    {
        if (!TryDownRead()) ThrowReadBlocked();
    }

    // Out of line: the exception's construction would keep DownRead from being inlined into every reader.
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static void ThrowReadBlocked() => throw HungTask.Blocked("down_read(i_rwsem): held for writing by another task that never releases it");

    /// <summary>down_write (inode_lock).</summary>
    public void DownWrite()
    {
        if (!TryDownWrite()) throw HungTask.Blocked("down_write(i_rwsem): held by another task that never releases it");
    }

    /// <summary>up_read.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public void UpRead() => Readers--;

    /// <summary>up_write.</summary>
    public void UpWrite() => Writer = false;

    /// <summary>Scenario setup: another task takes the lock shared (until <see cref="UpRead"/>).</summary>
    public void HoldShared() => Readers++;

    /// <summary>Scenario setup: another task takes the lock exclusively (until <see cref="UpWrite"/>).</summary>
    public void HoldExclusive() => Writer = true;
}
