namespace KernelSim.Mm;

/// <summary>
/// A per-machine structure that borrows cleared parts from its machine's <see cref="FramePool"/> (a page table's TLBs and
/// entry dictionary, a page cache's xarray leaves and folios): the machine's memory lists it on the first loan and, when
/// the machine is released, makes it give back everything it holds (it is empty afterwards).
/// </summary>
internal interface IPoolBorrower
{
    /// <summary>Set once the memory listed it (so it is listed once).</summary>
    bool Lent { get; set; }

    /// <summary>The machine is released: give back, cleared, what may serve the pool's next machine.</summary>
    void ReturnLent(FramePool pool);
}
