using KernelSim.Tests.Infrastructure;
using System.Buffers;
using System.Buffers.Binary;
using System.IO.Pipelines;
using KernelSim.Arch.X86;
using KernelSim.Block;
using KernelSim.Drivers.Virtiofs;
using KernelSim.Drivers.Virtiofs.Host;
using KernelSim.Drivers.Virtiofs.Protocol;
using KernelSim.Drivers.Virtiofs.Transport;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using Microsoft.Extensions.DependencyInjection;

namespace KernelSim.Tests.Campaigns;

/// <summary>
/// Simulator defects planted through the composition seams (MachineBuilder.Services and its extensions), for the
/// oracle's mutation tests: each is a wrapper around the real component that gets one thing wrong.
/// </summary>
internal static class SimulatorDefects
{
    /// <summary>What a defective copy engine gets wrong in the copies to user space.</summary>
    public enum CopyDefect
    {
        /// <summary>A copy that stopped short reports one byte more copied than it stored.</summary>
        WrongResidue,
        /// <summary>The middle byte of every copy of two or more bytes is not stored (the count is right).</summary>
        DroppedByte,
        /// <summary>Every copy stores one byte past the end of the destination.</summary>
        WritePastCount,
    }

    /// <summary>Replace ICopyRoutines with the real engine wrapped by <paramref name="defect"/>.</summary>
    public static void Copy(MachineBuilder b, CopyDefect defect) =>
        b.Services.AddSingleton<ICopyRoutines>(sp => new DefectiveCopy(ActivatorUtilities.CreateInstance<CopyRoutines>(sp), defect));

    /// <summary>Replace IMemoryMedia with one that never reports poison to the CPU (loads of poisoned lines succeed).</summary>
    public static void HidePoison(MachineBuilder b) =>
        b.Services.AddSingleton<IMemoryMedia>(sp => new PoisonHidingMedia(sp.GetRequiredService<PhysicalMemory>()));

    /// <summary>
    /// Replace IMemoryMedia with media that lost writes: a load of a pmem frame returns the bytes the frame held when
    /// it was first loaded (later stores reach the frame, but loads never see them). Poison is the real media's.
    /// </summary>
    public static void StaleMedia(MachineBuilder b) =>
        b.Services.AddSingleton<IMemoryMedia>(sp => new StaleCopyMedia(sp.GetRequiredService<PhysicalMemory>()));

    /// <summary>Replace IMemoryMedia with media whose clear-error path does nothing: the lines stay poisoned, the clear "succeeds".</summary>
    public static void ClearPoisonDoesNothing(MachineBuilder b) =>
        b.Services.AddSingleton<IMemoryMedia>(sp => new PoisonClearingMedia(sp.GetRequiredService<PhysicalMemory>(), wholePage: null));

    /// <summary>Replace IMemoryMedia with media whose clear-error path clears the whole 4 KiB page around the range asked for.</summary>
    public static void ClearPoisonWholePage(MachineBuilder b) =>
        b.Services.AddSingleton<IMemoryMedia>(sp => new PoisonClearingMedia(sp.GetRequiredService<PhysicalMemory>(), wholePage: true));

    /// <summary>
    /// Replace IPageCache with one that serves a stale page: the first lookup of a cached, uptodate page copies it to a
    /// page of its own, and every later lookup of that index returns the copy, whatever was written since.
    /// </summary>
    public static void StalePageCache(MachineBuilder b) =>
        b.Services.AddSingleton<IPageCache>(sp => new StaleCopyPageCache(sp.GetRequiredService<PhysicalMemory>()));

    /// <summary>Wrap pmem0's block_device_operations: a failed bio is completed with BLK_STS_OK.</summary>
    public static void BioSuccessOnError(MachineBuilder b) => b.InterceptDisk("pmem0", ops => new SuccessOnErrorDisk(ops));

    /// <summary>Wrap the BTT's block_device_operations (/dev/pmem0s): a failed bio is completed with BLK_STS_OK.</summary>
    public static void BttSuccessOnError(MachineBuilder b) => b.InterceptDisk("pmem0s", ops => new SuccessOnErrorDisk(ops));

    /// <summary>Wrap the BTT's block_device_operations (/dev/pmem0s): a write bio completes OK without reaching the BTT, so reads stay stale.</summary>
    public static void BttDropsWrites(MachineBuilder b) => b.InterceptDisk("pmem0s", ops => new DroppedWriteDisk(ops));

    /// <summary>Replace the virtio-fs backend with the daemon behind a device that maps each DAX range one page further into the file.</summary>
    public static void DaemonWrongBytes(MachineBuilder b) => b.Services.AddSingleton<IVirtioFsBackend>(new ShiftedMappingBackend());

    private sealed class DefectiveCopy(ICopyRoutines inner, CopyDefect defect) : DelegatingCopyRoutines(inner)
    {
        private ulong ToUser(UserPtr to, ulong n, Func<UserPtr, ulong, ulong, ulong> copy)
        {
            switch (defect)
            {
                case CopyDefect.WrongResidue:
                {
                    var left = copy(to, 0, n);
                    return left > 0 ? left - 1 : 0;
                }
                case CopyDefect.DroppedByte when n >= 2:
                {
                    var k = n / 2;
                    var left = copy(to, 0, k);
                    return left + copy(new UserPtr(to.Value + k + 1), k + 1, n - k - 1);
                }
                case CopyDefect.WritePastCount when n > 0:
                {
                    var left = copy(to, 0, n + 1);
                    return left > 0 ? left - 1 : 0;
                }
                default:
                    return copy(to, 0, n);
            }
        }

        public override ulong CopyToUser(UserPtr to, KernelPtr from, ulong n) =>
            ToUser(to, n, (t, skip, len) => Inner.CopyToUser(t, new KernelPtr(from.Value + skip), len));

        public override ulong RawCopyToUser(UserPtr to, KernelPtr from, ulong n) =>
            ToUser(to, n, (t, skip, len) => Inner.RawCopyToUser(t, new KernelPtr(from.Value + skip), len));

        public override ulong CopyMcToUser(UserPtr dst, KernelPtr src, ulong len) =>
            ToUser(dst, len, (t, skip, l) => Inner.CopyMcToUser(t, new KernelPtr(src.Value + skip), l));

    }

    private sealed class PoisonHidingMedia(PhysicalMemory phys) : IMemoryMedia
    {
        private readonly IMemoryMedia _real = phys;
        public int PoisonedFrameCount => 0;
        public int FirstPoisonInFrame(ulong pfn, int offsetInPage, int len) => -1;
        public bool IsPoisoned(PhysAddr pa) => false;
        public int InjectPoison(PhysAddr pa) => _real.InjectPoison(pa);
        public int ClearPoison(PhysAddr pa, ulong len) => _real.ClearPoison(pa, len);
        public IEnumerable<PhysAddr> PoisonedLines() => [];
    }

    /// <summary>Where the stale copies live: physical frames far above any registered range (never mapped).</summary>
    private const ulong ShadowPfn = 1UL << 32;

    private sealed class StaleCopyMedia(PhysicalMemory phys) : IMemoryMedia
    {
        private readonly IMemoryMedia _real = phys;
        private readonly HashSet<ulong> _copied = [];
        public int PoisonedFrameCount => _real.PoisonedFrameCount;
        public int FirstPoisonInFrame(ulong pfn, int offsetInPage, int len) => _real.FirstPoisonInFrame(pfn, offsetInPage, len);
        public bool IsPoisoned(PhysAddr pa) => _real.IsPoisoned(pa);
        public int InjectPoison(PhysAddr pa) => _real.InjectPoison(pa);
        public int ClearPoison(PhysAddr pa, ulong len) => _real.ClearPoison(pa, len);
        public IEnumerable<PhysAddr> PoisonedLines() => _real.PoisonedLines();

        public ulong LoadFrame(ulong pfn)
        {
            if (phys.FindRange(PhysAddr.FromPfn(pfn))?.Kind != MemoryKind.Pmem) return pfn;
            if (_copied.Add(pfn))
            {
                var page = new byte[PageDefs.PAGE_SIZE];
                phys.PeekBytes(PhysAddr.FromPfn(pfn), page);
                phys.PokeBytes(PhysAddr.FromPfn(pfn + ShadowPfn), page);
            }
            return pfn + ShadowPfn;
        }
    }

    private sealed class PoisonClearingMedia(PhysicalMemory phys, bool? wholePage) : IMemoryMedia
    {
        private readonly IMemoryMedia _real = phys;
        public int PoisonedFrameCount => _real.PoisonedFrameCount;
        public int FirstPoisonInFrame(ulong pfn, int offsetInPage, int len) => _real.FirstPoisonInFrame(pfn, offsetInPage, len);
        public bool IsPoisoned(PhysAddr pa) => _real.IsPoisoned(pa);
        public int InjectPoison(PhysAddr pa) => _real.InjectPoison(pa);
        public IEnumerable<PhysAddr> PoisonedLines() => _real.PoisonedLines();

        public int ClearPoison(PhysAddr pa, ulong len)
        {
            if (wholePage != true) return (int)((len + 63) / 64); // claims the lines cleared, clears nothing
            var start = pa.Value & ~(PageDefs.PAGE_SIZE - 1);
            return _real.ClearPoison(new PhysAddr(start), PageDefs.PageAlign(pa.Value + len) - start);
        }
    }

    private sealed class StaleCopyPageCache(PhysicalMemory phys) : IPageCache
    {
        private readonly Dictionary<(AddressSpace, ulong), Folio> _stale = [];

        public Folio? FilemapGetFolio(AddressSpace mapping, ulong index)
        {
            var real = mapping.Find(index);
            if (real is not { Uptodate: true }) return real;
            if (_stale.TryGetValue((mapping, index), out var copy)) return copy;
            var pfn = phys.AllocPage();
            if (pfn < 0) return real;
            var page = new byte[PageDefs.PAGE_SIZE];
            phys.PeekBytes(PhysAddr.FromPfn(real.Pfn), page);
            phys.PokeBytes(PhysAddr.FromPfn((ulong)pfn), page);
            copy = new Folio(index, (ulong)pfn);
            copy.MarkUptodate();
            _stale[(mapping, index)] = copy;
            return copy;
        }
    }

    private sealed class SuccessOnErrorDisk(IBlockDeviceOps inner) : IBlockDeviceOps
    {
        public void SubmitBio(Bio bio)
        {
            var end = bio.EndIo;
            bio.EndIo = b =>
            {
                b.Status = BlkStatus.BLK_STS_OK;
                end?.Invoke(b);
            };
            inner.SubmitBio(bio);
        }
    }

    private sealed class DroppedWriteDisk(IBlockDeviceOps inner) : IBlockDeviceOps
    {
        public void SubmitBio(Bio bio)
        {
            if (!bio.IsWrite)
            {
                inner.SubmitBio(bio);
                return;
            }
            bio.Status = BlkStatus.BLK_STS_OK;
            bio.Endio();
        }
    }

    /// <summary>The simulated daemon behind a device that adds a page to the file offset of every FUSE_SETUPMAPPING.</summary>
    private sealed class ShiftedMappingBackend : IVirtioFsBackend
    {
        public IVirtioFsDevice Connect(VirtioFsDaemon daemon, VirtioFsOptions options) => new Device(daemon);

        private sealed class Device(VirtioFsDaemon daemon) : IVirtioFsDevice
        {
            public void Kick(int queue, PipeReader avail, PipeWriter used)
            {
                if (!avail.TryRead(out var r))
                {
                    daemon.Kick(queue, avail, used);
                    return;
                }
                var bytes = r.Buffer.ToArray();
                avail.AdvanceTo(r.Buffer.End);
                // u32 frame_len | u32 inline_len | fuse_in_header (opcode at +4) | fuse_setupmapping_in (foffset at +8).
                const int args = 8 + FuseConst.InHeaderSize;
                if (bytes.Length >= args + 16 && BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(12)) == (uint)FuseOpcode.FUSE_SETUPMAPPING)
                {
                    var foffset = BinaryPrimitives.ReadUInt64LittleEndian(bytes.AsSpan(args + 8));
                    BinaryPrimitives.WriteUInt64LittleEndian(bytes.AsSpan(args + 8), foffset + 4096);
                }
                var pipe = new Pipe(new PipeOptions(pauseWriterThreshold: 0, resumeWriterThreshold: 0, useSynchronizationContext: false,
                    readerScheduler: PipeScheduler.Inline, writerScheduler: PipeScheduler.Inline));
                pipe.Writer.Write(bytes);
                _ = pipe.Writer.FlushAsync().AsTask().GetAwaiter().GetResult();
                daemon.Kick(queue, pipe.Reader, used);
            }
        }
    }
}
