using KernelSim.Dax;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Virtiofs.Guest;

/// <summary>
/// struct fuse_conn_dax and the range pool of fs/fuse/dax.c: the window cut into 2 MiB ranges (free list, busy
/// FIFO, counters, a wait queue), allocation with the background-reclaim kick (below 20 % free, at least 1),
/// inline reclaim for read/write, the reclaim worker (10 ranges per pass on the workqueue) and the REMOVEMAPPING
/// it sends.
/// </summary>
public sealed class FuseConnDax
{
    private readonly LinkedList<DaxMapping> _free = new();
    private readonly LinkedList<DaxMapping> _busy = new();
    private readonly Machine _machine;
    private bool _workPending;

    internal FuseConnDax(Machine machine, FuseConn conn, DaxDevice dev, PhysRange window, ulong windowBytes)
    {
        _machine = machine;
        Conn = conn;
        Dev = dev;
        Window = window;
        // fuse_dax_mem_range_init: nr_ranges = window pages / pages per range; a tail that is not a whole range is unused.
        var nr = windowBytes >> FuseConst.FUSE_DAX_SHIFT;
        for (ulong i = 0; i < nr; i++)
        {
            var d = new DaxMapping(i << FuseConst.FUSE_DAX_SHIFT, FuseConst.FUSE_DAX_SZ);
            d.ListNode = _free.AddLast(d);
        }
        NrRanges = (int)nr;
    }

    /// <summary>The connection.</summary>
    public FuseConn Conn { get; }

    /// <summary>fc-&gt;dax-&gt;dev.</summary>
    public DaxDevice Dev { get; }

    /// <summary>The window's guest-physical range.</summary>
    public PhysRange Window { get; }

    /// <summary>nr_ranges.</summary>
    public int NrRanges { get; }

    /// <summary>nr_free_ranges.</summary>
    public int NrFreeRanges => _free.Count;

    /// <summary>nr_busy_ranges.</summary>
    public int NrBusyRanges => _busy.Count;

    /// <summary>The free list, in order.</summary>
    public IEnumerable<DaxMapping> FreeRanges => _free;

    /// <summary>The busy FIFO, oldest first.</summary>
    public IEnumerable<DaxMapping> BusyRanges => _busy;

    /// <summary>Times the worker was queued.</summary>
    public int WorkerKicks { get; private set; }

    /// <summary>Worker passes run.</summary>
    public int WorkerPasses { get; private set; }

    /// <summary>free_threshold = max(nr_ranges × FUSE_DAX_RECLAIM_THRESHOLD / 100, 1).</summary>
    public int FreeThreshold => Math.Max(NrRanges * FuseConst.FUSE_DAX_RECLAIM_THRESHOLD / 100, 1);

    /// <summary>__kick_dmap_free_worker: queue the worker when below the threshold and it is not already queued.</summary>
    internal void KickWorker(int delayMs)
    {
        if (NrFreeRanges >= FreeThreshold || _workPending) return;
        _workPending = true;
        WorkerKicks++;
        _machine.WorkQueue.Schedule($"fuse_dax_free_mem_worker (delay {delayMs} ms)", Worker);
    }

    /// <summary>alloc_dax_mapping: the first free range (or null), then the kick.</summary>
    internal DaxMapping? Alloc()
    {
        DaxMapping? d = null;
        if (_free.First is { } n)
        {
            d = n.Value;
            _free.Remove(n);
            d.ListNode = null;
        }
        KickWorker(0);
        return d;
    }

    /// <summary>dmap_add_to_free_pool: back on the free list's tail, wake one waiter.</summary>
    internal void AddToFreePool(DaxMapping d)
    {
        d.Inode = null;
        d.Index = 0;
        d.Writable = false;
        d.ListNode = _free.AddLast(d);
    }

    /// <summary>Append a freshly set-up range to the busy FIFO.</summary>
    internal void AddBusy(DaxMapping d) => d.BusyNode = _busy.AddLast(d);

    private void RemoveBusy(DaxMapping d)
    {
        if (d.BusyNode != null) _busy.Remove(d.BusyNode);
        d.BusyNode = null;
    }

    /// <summary>
    /// Sleep until a range is free (wait_event_killable_exclusive / wait_event on range_waitq). The sleeping task lets
    /// the queued worker run; if nothing can ever free a range the task sleeps forever (reported as a livelock).
    /// </summary>
    internal void WaitForFreeRange(string who)
    {
        var guard = new RetryGuard($"{who}: waiting for a free DAX range");
        while (NrFreeRanges == 0)
        {
            var ran = _machine.WorkQueue.RunPending();
            guard.Pass(progressed: ran > 0 && NrFreeRanges > 0);
        }
    }

    /// <summary>
    /// alloc_dax_mapping_reclaim (read/write path): a free range; else inline-reclaim the inode's first idle range
    /// and reuse it; else (the inode owns none) sleep until one is freed. Busy ranges of the inode → retry at once.
    /// </summary>
    internal DaxMapping AllocReclaim(FuseInode inode)
    {
        var guard = new RetryGuard("alloc_dax_mapping_reclaim");
        while (true)
        {
            var d = Alloc();
            if (d != null) return d;
            d = InlineReclaimOne(inode, out var retry);
            if (d != null) return d;
            if (retry)
            {
                guard.Pass(progressed: false);
                continue;
            }
            if (inode.NrRanges == 0 && NrFreeRanges == 0) WaitForFreeRange("alloc_dax_mapping_reclaim");
        }
    }

    /// <summary>
    /// inode_inline_reclaim_one_dmap: reclaim the inode's first range (lowest index) that is not in use and return
    /// it detached (not via the free list). retry = the inode has ranges but all are in use.
    /// </summary>
    private DaxMapping? InlineReclaimOne(FuseInode inode, out bool retry)
    {
        retry = false;
        DaxMapping? victim = null;
        foreach (var d in inode.Tree.Values)
        {
            if (d.Refcnt == 1)
            {
                victim = d;
                break;
            }
        }
        if (victim == null)
        {
            retry = inode.NrRanges > 0;
            return null;
        }
        ReclaimLocked(inode, victim);
        RemoveBusy(victim);
        victim.Inode = null;
        victim.Index = 0;
        victim.Writable = false;
        return victim;
    }

    /// <summary>
    /// reclaim_one_dmap_locked: write back and invalidate the range's DAX entries and user PTEs
    /// (invalidate_inode_pages2_range), remove it from the inode tree and send REMOVEMAPPING for it. A REMOVEMAPPING
    /// error other than −ENOTCONN is only warned about.
    /// </summary>
    private void ReclaimLocked(FuseInode inode, DaxMapping d)
    {
        var start = (long)(d.Index << FuseConst.FUSE_DAX_SHIFT);
        inode.Fs.UnmapMappingRange(inode, start, (long)FuseConst.FUSE_DAX_SZ);
        inode.Tree.Remove(d.Index);
        var r = RemoveMappings(inode, [(d.WindowOffset, d.Length)]);
        if (r != 0 && r != -Errno.ENOTCONN)
            _machine.State.Printk($"virtio_fs: Failed to removemappings. dmap->window_offset=0x{d.WindowOffset:x} err={r}");
    }

    /// <summary>fuse_send_removemapping in batches of at most FUSE_REMOVEMAPPING_MAX_ENTRY; the last error.</summary>
    internal int RemoveMappings(FuseInode inode, ReadOnlySpan<(ulong MOffset, ulong Len)> entries)
    {
        var err = 0;
        Span<byte> args = stackalloc byte[FuseWire.RemoveMappingInSize(FuseConst.FUSE_REMOVEMAPPING_MAX_ENTRY)];
        for (var i = 0; i < entries.Length; i += FuseConst.FUSE_REMOVEMAPPING_MAX_ENTRY)
        {
            var n = Math.Min(FuseConst.FUSE_REMOVEMAPPING_MAX_ENTRY, entries.Length - i);
            var r = Conn.Request(FuseOpcode.FUSE_REMOVEMAPPING, inode.NodeId, FuseWire.RemoveMappingIn(args, entries.Slice(i, n)), out _);
            if (r != 0) err = r;
        }
        return err;
    }

    /// <summary>
    /// fuse_dax_free_mem_worker: try_to_free_dmap_chunks(FUSE_DAX_RECLAIM_CHUNK) walking the busy FIFO from the
    /// head, skipping ranges in use, then requeue if still below the threshold. [model] The requeue happens only
    /// when the pass freed something, so a pass that cannot progress does not spin the deterministic workqueue.
    /// </summary>
    private void Worker()
    {
        _workPending = false;
        WorkerPasses++;
        var freed = 0;
        while (freed < FuseConst.FUSE_DAX_RECLAIM_CHUNK)
        {
            DaxMapping? victim = null;
            for (var n = _busy.First; n != null; n = n.Next)
            {
                if (n.Value.Refcnt > 1 || n.Value.Inode == null) continue;
                victim = n.Value;
                // list_move_tail so other threads find the next idle range
                _busy.Remove(n);
                victim.BusyNode = _busy.AddLast(victim);
                break;
            }
            if (victim == null) break;
            var inode = victim.Inode!;
            // lookup_and_reclaim_dmap: re-check under the locks that the range is still the inode's and idle
            if (!inode.Tree.TryGetValue(victim.Index, out var cur) || cur != victim || victim.Refcnt > 1) break;
            ReclaimLocked(inode, victim);
            RemoveBusy(victim);
            AddToFreePool(victim);
            freed++;
        }
        if (freed > 0) KickWorker(1);
    }

    /// <summary>fuse_dax_inode_cleanup: remove every range of the inode (batched REMOVEMAPPING) and free them.</summary>
    internal void InodeCleanup(FuseInode inode)
    {
        if (inode.Tree.Count == 0) return;
        var list = new List<(ulong, ulong)>();
        var ranges = inode.Tree.Values.ToList();
        foreach (var d in ranges) list.Add((d.WindowOffset, d.Length));
        inode.Fs.UnmapMappingRange(inode, 0, long.MaxValue);
        inode.Tree.Clear();
        var r = RemoveMappings(inode, list.ToArray());
        if (r != 0 && r != -Errno.ENOTCONN) _machine.State.Printk($"virtio_fs: Failed to remove mappings of inode {inode.NodeId}: err={r}");
        foreach (var d in ranges)
        {
            RemoveBusy(d);
            AddToFreePool(d);
        }
    }
}
