using System.Buffers.Binary;
using KernelSim.Block;
using KernelSim.Fs;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem;

/// <summary>
/// The libnvdimm control devices (drivers/nvdimm/bus.c): /dev/ndctlN for bus commands and /dev/nmemN for DIMM commands,
/// both answering only ioctl (nvdimm_bus_fops / nvdimm_fops: no read or write), with __nd_ioctl's envelope validation in
/// front of the bus provider's ndctl callback (<see cref="NdCtl"/>).
/// </summary>
public sealed partial class NvdimmBus
{
    /// <summary>
    /// register_chrdev(0, "ndctl") and register_chrdev(0, "dimmctl") take dynamic majors; the simulator fixes them at
    /// 250 and 249 (what the first two dynamic allocations below 254 give on a machine with two earlier ones).
    /// </summary>
    public const uint NvdimmBusMajor = 250, NvdimmMajor = 249;

    /// <summary>ND_CMD_* numbers (include/uapi/linux/ndctl.h).</summary>
    public const int ND_CMD_IMPLEMENTED = 0, ND_CMD_ARS_CAP = 1, ND_CMD_ARS_START = 2, ND_CMD_ARS_STATUS = 3, ND_CMD_CLEAR_ERROR = 4, ND_CMD_CALL = 10;

    /// <summary>DIMM ND_CMD_* numbers: ND_CMD_SMART … ND_CMD_VENDOR.</summary>
    public const int ND_CMD_SMART = 1, ND_CMD_SMART_THRESHOLD = 2, ND_CMD_DIMM_FLAGS = 3, ND_CMD_GET_CONFIG_SIZE = 4, ND_CMD_GET_CONFIG_DATA = 5,
        ND_CMD_SET_CONFIG_DATA = 6, ND_CMD_VENDOR = 9;

    /// <summary>ND_CMD_MAX_ENVELOPE (256) and ND_IOCTL_MAX_BUFLEN (SZ_4M).</summary>
    public const int ND_CMD_MAX_ENVELOPE = 256, ND_IOCTL_MAX_BUFLEN = 4 << 20;

    /// <summary>sizeof(struct nd_cmd_pkg).</summary>
    public const int NdCmdPkgSize = 64;

    /// <summary>NVDIMM_FAMILY_MAX (NVDIMM_FAMILY_PAPR) and NVDIMM_BUS_FAMILY_MAX (NVDIMM_BUS_FAMILY_INTEL).</summary>
    public const ulong NVDIMM_FAMILY_MAX = 5, NVDIMM_BUS_FAMILY_MAX = 1;

    private const uint UintMax = uint.MaxValue;

    /// <summary>struct nd_cmd_desc: the in and out field sizes (UINT_MAX = variable).</summary>
    private sealed record NdCmdDesc(uint[] In, uint[] Out);

    /// <summary>__nd_cmd_bus_descs (bus.c).</summary>
    private static readonly NdCmdDesc?[] BusDescs =
    [
        new([], []),
        new([8, 8], [4, 4, 4, 4]),
        new([8, 8, 2, 1, 5], [4, 4]),
        new([], [4, 4, UintMax]),
        new([8, 8], [4, 4, 8]),
        null, null, null, null, null,
        new([NdCmdPkgSize, UintMax], [UintMax]),
    ];

    /// <summary>__nd_cmd_dimm_descs (bus.c).</summary>
    private static readonly NdCmdDesc?[] DimmDescs =
    [
        new([], []),
        new([], [4, 128]),
        new([], [4, 8]),
        new([], [4, 4]),
        new([], [4, 4, 4]),
        new([4, 4], [4, UintMax]),
        new([4, 4, UintMax], [4]),
        null, null,
        new([4, 4, UintMax], [4, 4, UintMax]),
        new([NdCmdPkgSize, UintMax], [UintMax]),
    ];

    /// <summary>nd_desc-&gt;cmd_mask: ARS_CAP, ARS_START, ARS_STATUS, CLEAR_ERROR and CALL with ARS (nfit_test's bus_cmd_force_en); none on QEMU and e820.</summary>
    public ulong BusCmdMask => Firmware is { SupportsArs: true } ? 0x41eUL : 0;

    /// <summary>acpi_desc-&gt;bus_dsm_mask (the bus nfit/dsm_mask): ARS_INJECT_SET, _CLEAR, _GET (7, 8, 9) with injection.</summary>
    public ulong BusDsmMask => Firmware is { SupportsInject: true } ? 0x380UL : 0;

    /// <summary>nd_desc-&gt;bus_family_mask: NVDIMM_BUS_FAMILY_NFIT when the bus has DSM functions.</summary>
    private ulong BusFamilyMask => BusDsmMask != 0 ? 1UL : 0;

    /// <summary>nd_desc-&gt;dimm_family_mask: NVDIMM_FAMILY_INTEL for the NFIT DIMMs.</summary>
    private ulong DimmFamilyMask => Dimms.Count > 0 ? 1UL : 0;

    /// <summary>
    /// nvdimm_bus_create_ndctl and the DIMMs' devt (dimm_devs.c): /dev/ndctl0 (NvdimmBusMajor:0) and /dev/nmemN
    /// (NvdimmMajor:N), mode 0600, opened by nd_open.
    /// </summary>
    internal void CreateControlDevices(DevTmpFs dev)
    {
        dev.AddCharNode("ndctl0", NvdimmBusMajor, 0, (CdevInode i, int f, out KFile? file) =>
        {
            file = new NdCtlFile(i, f, this, null);
            return 0;
        });
        foreach (var d in Dimms)
        {
            dev.AddCharNode(d.Name, NvdimmMajor, (uint)d.Id, (CdevInode i, int f, out KFile? file) =>
            {
                file = new NdCtlFile(i, f, this, d);
                return 0;
            });
        }
    }

    /// <summary>
    /// __nd_ioctl (drivers/nvdimm/bus.c): _IOC_NR is the command; for ND_CMD_CALL the nd_cmd_pkg header is read first
    /// (−EFAULT) and its family checked against the bus or DIMM family mask (−EINVAL); an unknown command, one without
    /// fields or outside the cmd_mask → −ENOTTY; a write command on an O_RDONLY open → −EPERM; the input and output
    /// envelopes are sized with nd_cmd_in_size / nd_cmd_out_size (unknown input size → −ENXIO, unknown output size →
    /// −EFAULT), the total must not exceed ND_IOCTL_MAX_BUFLEN (−EINVAL); then clear-to-send, the provider's ndctl,
    /// nvdimm_account_cleared_poison after CLEAR_ERROR, and the buffer copied back (−EFAULT). The ioctl's type and size
    /// bits are not checked (the kernel does not check them either).
    /// </summary>
    internal long NdIoctl(NvdimmDimm? dimm, bool readOnly, uint ioctlCmd, ulong arg)
    {
        using var _ = Machine.Tracer.Fn("__nd_ioctl", "nvdimm");
        var p = Machine.Current!;
        var cmd = (int)Ioctl.Nr(ioctlCmd);
        var descs = dimm != null ? DimmDescs : BusDescs;
        var cmdMask = dimm != null ? dimm.CmdMask : BusCmdMask;
        var user = new UserPtr(arg);
        Span<byte> pkg = stackalloc byte[NdCmdPkgSize];
        if (cmd == ND_CMD_CALL)
        {
            if (p.CopyFromUser(user, pkg) < 0) return -Errno.EFAULT;
            var family = BinaryPrimitives.ReadUInt64LittleEndian(pkg);
            if (family > (dimm != null ? NVDIMM_FAMILY_MAX : NVDIMM_BUS_FAMILY_MAX)) return -Errno.EINVAL;
            if ((((dimm != null ? DimmFamilyMask : BusFamilyMask) >> (int)family) & 1) == 0) return -Errno.EINVAL;
        }
        var desc = cmd < descs.Length ? descs[cmd] : null;
        if (desc == null || desc.In.Length + desc.Out.Length == 0 || cmd > ND_CMD_CALL || ((cmdMask >> cmd) & 1) == 0) return -Errno.ENOTTY;
        if (readOnly && cmd is ND_CMD_VENDOR or ND_CMD_SET_CONFIG_DATA or ND_CMD_ARS_START or ND_CMD_CLEAR_ERROR or ND_CMD_CALL)
            return -Errno.EPERM;

        Span<byte> inEnv = stackalloc byte[ND_CMD_MAX_ENVELOPE];
        Span<byte> outEnv = stackalloc byte[ND_CMD_MAX_ENVELOPE];
        inEnv.Clear();
        outEnv.Clear();
        uint inLen = 0, outLen = 0;
        for (var i = 0; i < desc.In.Length; i++)
        {
            var size = NdCmdInSize(dimm, cmd, desc, i, inEnv);
            if (size == UintMax)
            {
                Machine.State.Printk($"nd_bus {Device.Name}: __nd_ioctl:{(dimm?.Name ?? "bus")} unknown input size cmd: {cmd} field: {i}");
                return -Errno.ENXIO;
            }
            var copy = inLen < ND_CMD_MAX_ENVELOPE ? Math.Min(ND_CMD_MAX_ENVELOPE - inLen, size) : 0;
            if (copy > 0 && p.CopyFromUser(user + inLen, inEnv.Slice((int)inLen, (int)copy)) < 0) return -Errno.EFAULT;
            inLen += size;
        }
        for (var i = 0; i < desc.Out.Length; i++)
        {
            var size = NdCmdOutSize(dimm, cmd, desc, i, inEnv, outEnv);
            if (size == UintMax) return -Errno.EFAULT;
            var copy = outLen < ND_CMD_MAX_ENVELOPE ? Math.Min(ND_CMD_MAX_ENVELOPE - outLen, size) : 0;
            if (copy > 0 && p.CopyFromUser(user + inLen + outLen, outEnv.Slice((int)outLen, (int)copy)) < 0) return -Errno.EFAULT;
            outLen += size;
        }
        var bufLen = (ulong)outLen + inLen;
        if (bufLen > ND_IOCTL_MAX_BUFLEN) return -Errno.EINVAL;
        var buf = new byte[bufLen];
        if (p.CopyFromUser(user, buf) < 0) return -Errno.EFAULT;
        var func = cmd == ND_CMD_CALL ? (int)BinaryPrimitives.ReadUInt64LittleEndian(pkg[8..]) : cmd;
        var rc = ClearToSend(dimm, func, buf);
        if (rc != 0) return rc;
        rc = NdCtl(dimm, cmd, buf, out var cmdRc);
        if (rc < 0) return rc;
        if (dimm == null && cmd == ND_CMD_CLEAR_ERROR && cmdRc >= 0)
            AccountClearedPoison(BinaryPrimitives.ReadUInt64LittleEndian(buf), BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(24)));
        if (p.CopyToUser(user, buf) < 0) return -Errno.EFAULT;
        return rc;
    }

    /// <summary>nd_cmd_in_size: the fixed size, or for ND_CMD_CALL field 1 the package's nd_size_in, else UINT_MAX.</summary>
    private static uint NdCmdInSize(NvdimmDimm? dimm, int cmd, NdCmdDesc desc, int idx, ReadOnlySpan<byte> inEnv)
    {
        if (idx >= desc.In.Length) return UintMax;
        if (desc.In[idx] < UintMax) return desc.In[idx];
        if (dimm != null && cmd is ND_CMD_SET_CONFIG_DATA or ND_CMD_VENDOR && idx == 2) return BinaryPrimitives.ReadUInt32LittleEndian(inEnv[4..]);
        if (cmd == ND_CMD_CALL) return BinaryPrimitives.ReadUInt32LittleEndian(inEnv[16..]);
        return UintMax;
    }

    /// <summary>
    /// nd_cmd_out_size: the fixed size; GET_CONFIG_DATA's in_length; VENDOR's out_length; for ARS_STATUS field 2 the
    /// caller's out_length minus 8 (0 when under 4); for ND_CMD_CALL the package's nd_size_out; else UINT_MAX.
    /// </summary>
    private static uint NdCmdOutSize(NvdimmDimm? dimm, int cmd, NdCmdDesc desc, int idx, ReadOnlySpan<byte> inEnv, ReadOnlySpan<byte> outEnv)
    {
        if (idx >= desc.Out.Length) return UintMax;
        if (desc.Out[idx] < UintMax) return desc.Out[idx];
        if (dimm != null && cmd == ND_CMD_GET_CONFIG_DATA && idx == 1) return BinaryPrimitives.ReadUInt32LittleEndian(inEnv[4..]);
        if (dimm != null && cmd == ND_CMD_VENDOR && idx == 2) return BinaryPrimitives.ReadUInt32LittleEndian(outEnv[4..]);
        if (dimm == null && cmd == ND_CMD_ARS_STATUS && idx == 2)
        {
            var outLength = BinaryPrimitives.ReadUInt32LittleEndian(outEnv[4..]);
            if (outLength < 4) return 0;
            return outLength - 4 == 0 ? 0 : outLength - 8;
        }
        if (cmd == ND_CMD_CALL) return BinaryPrimitives.ReadUInt32LittleEndian(inEnv[20..]);
        return UintMax;
    }

    /// <summary>
    /// acpi_nfit_clear_to_send then nd_cmd_clear_to_send, both given the DSM function (for ND_CMD_CALL the package's
    /// nd_command): a bus function 10 of another family → −EOPNOTSUPP; ARS_START/ARS_STATUS while the kernel's scrub
    /// runs → −EBUSY; CLEAR_ERROR over the whole of an enabled namespace → −EBUSY (it must go through the pmem driver).
    /// </summary>
    private int ClearToSend(NvdimmDimm? dimm, int func, byte[] buf)
    {
        if (dimm == null && func == ND_CMD_CALL && BinaryPrimitives.ReadUInt64LittleEndian(buf) != 0) return -Errno.EOPNOTSUPP;
        if (dimm == null && ArsInProgress && func is ND_CMD_ARS_START or ND_CMD_ARS_STATUS) return -Errno.EBUSY;
        if (dimm != null || func != ND_CMD_CLEAR_ERROR || buf.Length < 32) return 0;
        var start = BinaryPrimitives.ReadUInt64LittleEndian(buf);
        var end = start + BinaryPrimitives.ReadUInt64LittleEndian(buf.AsSpan(24)) - 1;
        foreach (var r in _regions)
        {
            foreach (var ns in r._nsDevs)
            {
                var bound = ns.Driver != null || (ns.Claim is { Driver: not null, Kind: not NdClaimKind.Dax });
                if (bound && ns.Size > 0 && ns.Start >= start && ns.Start + ns.Size - 1 <= end) return -Errno.EBUSY;
            }
        }
        return 0;
    }

    /// <summary>nd_desc-&gt;ndctl: nfit_test_ctl on the NfitTest platform, acpi_nfit_ctl on QEMU (no function: −ENOTTY); e820 has none.</summary>
    private int NdCtl(NvdimmDimm? dimm, int cmd, byte[] buf, out int cmdRc)
    {
        cmdRc = 0;
        return Firmware == null ? -Errno.ENOTTY : Firmware.Ctl(dimm, cmd, buf, BusCmdMask, out cmdRc);
    }

    /// <summary>/dev/ndctlN and /dev/nmemN (nvdimm_bus_fops, nvdimm_fops): ioctl only.</summary>
    private sealed class NdCtlFile(CdevInode inode, int flags, NvdimmBus bus, NvdimmDimm? dimm) : KFile(inode, flags)
    {
        protected override bool HasReadIter => false;

        protected override bool HasWriteIter => false;

        /// <summary>bus_ioctl / dimm_ioctl → nd_ioctl: read-only when opened O_RDONLY.</summary>
        public override long Ioctl(uint cmd, ulong arg) => bus.NdIoctl(dimm, (Flags & Fcntl.O_ACCMODE) == Fcntl.O_RDONLY, cmd, arg);
    }
}
