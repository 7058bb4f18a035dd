using System.Buffers.Binary;
using KernelSim.Uapi;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// ndctl_cmd_submit (ndctl/lib/libndctl.c): open /dev/ndctlN (bus commands) or /dev/nmemN (DIMM commands) O_RDWR,
/// one ioctl with the command buffer laid out byte for byte as include/uapi/linux/ndctl.h and ndctl's
/// libndctl-nfit.h / lib/intel.h declare it, close. Returns the ioctl's value or −errno.
/// </summary>
internal static class NdCmd
{
    /// <summary>ND_IOCTL 'N' command numbers.</summary>
    public const int ND_CMD_ARS_CAP = 1, ND_CMD_ARS_START = 2, ND_CMD_ARS_STATUS = 3, ND_CMD_CLEAR_ERROR = 4, ND_CMD_CALL = 10;

    /// <summary>ENOMSG (42), which ndctl returns for an unknown extended firmware status.</summary>
    private const int ENOMSG = 42;

    /// <summary>sizeof(struct nd_cmd_ars_cap) and sizeof(struct nd_cmd_clear_error).</summary>
    public const int ArsCapSize = 32, ClearErrorSize = 32;

    /// <summary>sizeof(struct nd_cmd_pkg) (the ND_IOCTL_CALL header before nd_payload).</summary>
    public const int PkgSize = 64;

    /// <summary>NFIT bus DSM functions reached through ND_CMD_CALL (libndctl-nfit.h).</summary>
    public const int NFIT_CMD_ARS_INJECT_SET = 7, NFIT_CMD_ARS_INJECT_CLEAR = 8, NFIT_CMD_ARS_INJECT_GET = 9;

    /// <summary>Intel DIMM DSM functions (lib/intel.h).</summary>
    public const int ND_INTEL_SMART = 1, ND_INTEL_SMART_THRESHOLD = 2, ND_INTEL_SMART_SET_THRESHOLD = 17, ND_INTEL_SMART_INJECT = 18;

    /// <summary>Submit <paramref name="buf"/> to the bus control device with ioctl <paramref name="nr"/>.</summary>
    public static int SubmitBus(NdBus bus, int nr, byte[] buf) => Submit(bus.Ctx.Io, NdStrings.Numbered("/dev/ndctl", bus.Id, ""), nr, buf);

    /// <summary>Submit <paramref name="buf"/> to the DIMM's /dev/nmemN.</summary>
    public static int SubmitDimm(NdDimm dimm, int nr, byte[] buf) => Submit(dimm.Bus.Ctx.Io, NdStrings.Numbered("/dev/nmem", dimm.Id, ""), nr, buf);

    private static int Submit(NdctlIo io, string path, int nr, byte[] buf)
    {
        var fd = io.P.Open(path, Fcntl.O_RDWR);
        if (fd < 0)
        {
            io.LibErr("ndctl_cmd_submit", $"failed to open {path}: {NdctlIo.StrError((int)-fd)}\n");
            return (int)fd;
        }
        var size = nr == ND_CMD_CALL ? PkgSize : buf.Length;
        var u = io.Scratch;
        io.Store(u, buf);
        var rc = io.P.Ioctl((int)fd, Ioctl.IOWR('N', (uint)nr, (uint)size), u.Value);
        io.Load(u, buf);
        io.P.Close((int)fd);
        return (int)rc;
    }

    /// <summary>ndctl_bus_cmd_new_ars_cap + submit: (rc, status, max_ars_out, clear_err_unit); −ENOTTY when the bus lacks ars_cap.</summary>
    public static int ArsCap(NdBus bus, ulong address, ulong length, out uint status, out uint maxArsOut, out uint clearErrUnit)
    {
        status = maxArsOut = clearErrUnit = 0;
        if (!bus.IsCmdSupported(ND_CMD_ARS_CAP)) return -Errno.ENOTTY;
        var b = new byte[ArsCapSize];
        BinaryPrimitives.WriteUInt64LittleEndian(b, address);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), length);
        var rc = SubmitBus(bus, ND_CMD_ARS_CAP, b);
        status = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(16));
        maxArsOut = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(20));
        clearErrUnit = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(24));
        return rc;
    }

    /// <summary>ndctl_bus_cmd_new_clear_error + submit: the cleared byte count.</summary>
    public static int ClearError(NdBus bus, ulong address, ulong length, out ulong cleared)
    {
        var b = new byte[ClearErrorSize];
        BinaryPrimitives.WriteUInt64LittleEndian(b, address);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), length);
        var rc = SubmitBus(bus, ND_CMD_CLEAR_ERROR, b);
        cleared = BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(24));
        return rc;
    }

    /// <summary>
    /// An ND_CMD_CALL package: struct nd_cmd_pkg {nd_family, nd_command, nd_size_in, nd_size_out, reserved2[9],
    /// nd_fw_size} followed by room for the payload (in + out bytes).
    /// </summary>
    public static byte[] Pkg(ulong family, ulong command, int sizeIn, int sizeOut, int fwSize)
    {
        var b = new byte[PkgSize + sizeIn + sizeOut];
        BinaryPrimitives.WriteUInt64LittleEndian(b, family);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(8), command);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(16), (uint)sizeIn);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(20), (uint)sizeOut);
        BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(60), (uint)fwSize);
        return b;
    }

    /// <summary>translate_status of an error-injection reply: 1 → −EOPNOTSUPP, 2 → −EINVAL.</summary>
    public static int TranslateInjStatus(uint status) => status switch
    {
        1 => -Errno.EOPNOTSUPP,
        2 => -Errno.EINVAL,
        _ => 0,
    };

    /// <summary>
    /// ndctl_bus_cmd_new_err_inj / _err_inj_clr + submit: struct nd_cmd_ars_err_inj {base, length, options (bit 0
    /// NOTIFY), status} (17 bytes in, 4 out) or nd_cmd_ars_err_inj_clr {base, length, status} (16 in, 4 out).
    /// </summary>
    public static int ErrInj(NdBus bus, bool clear, ulong spa, ulong len, bool notify)
    {
        var sizeIn = clear ? 16 : 17;
        var b = Pkg(0, clear ? (ulong)NFIT_CMD_ARS_INJECT_CLEAR : NFIT_CMD_ARS_INJECT_SET, sizeIn, 4, 4);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(PkgSize), spa);
        BinaryPrimitives.WriteUInt64LittleEndian(b.AsSpan(PkgSize + 8), len);
        if (!clear && notify) b[PkgSize + 16] = 1;
        var rc = SubmitBus(bus, ND_CMD_CALL, b);
        if (rc < 0) return rc;
        return TranslateInjStatus(BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(PkgSize + sizeIn)));
    }

    /// <summary>
    /// ndctl_bus_cmd_new_err_inj_stat + submit: struct nd_cmd_ars_err_inj_stat {status, inj_err_rec_count,
    /// record[] {base, length}} with <paramref name="bufSize"/> bytes of records room.
    /// </summary>
    public static int ErrInjStat(NdBus bus, uint bufSize, out List<(ulong Base, ulong Len)> records)
    {
        records = [];
        var outSize = 8 + (int)bufSize;
        var b = Pkg(0, NFIT_CMD_ARS_INJECT_GET, 0, outSize, outSize);
        var rc = SubmitBus(bus, ND_CMD_CALL, b);
        if (rc < 0) return rc;
        var n = BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(PkgSize + 4));
        for (var i = 0; i < n && 8 + (i + 1) * 16 <= outSize; i++)
        {
            var o = PkgSize + 8 + i * 16;
            records.Add((BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(o)), BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(o + 8))));
        }
        return 0;
    }

    /// <summary>
    /// alloc_intel_cmd + submit: an NVDIMM_FAMILY_INTEL package on /dev/nmemN. Null (the command cannot be built)
    /// when the DIMM lacks cmd_call or the function's dsm_mask bit; else the rc and the reply payload.
    /// </summary>
    public static int? IntelCall(NdDimm dimm, int func, byte[] input, int outSize, out byte[] payload)
    {
        payload = [];
        if (!dimm.IsCmdSupported(ND_CMD_CALL) || !dimm.TestDsm(func)) return null;
        var b = Pkg(0, (ulong)func, input.Length, outSize, 0);
        input.CopyTo(b, PkgSize);
        var rc = SubmitDimm(dimm, ND_CMD_CALL, b);
        payload = b[PkgSize..];
        return rc;
    }

    /// <summary>intel_cmd_xlat_firmware_status: the Intel status word as an errno (−ENXIO for "injection disabled").</summary>
    public static int IntelXlat(int func, uint status)
    {
        switch (status & 0xffff)
        {
            case 0: return 0;
            case 1: return -Errno.EOPNOTSUPP;
            case 2: return -Errno.ENXIO;
            case 3: return -Errno.EINVAL;
            case 4: return -Errno.EIO;
            case 5: return -Errno.EAGAIN;
            case 7: break;
            case 8: return -Errno.EAGAIN;
            case 9: return -Errno.EBUSY;
        }
        if (func == ND_INTEL_SMART_INJECT && (status & 0xffff0000) == 0x10000) return -Errno.ENXIO;
        return -ENOMSG;
    }
}
