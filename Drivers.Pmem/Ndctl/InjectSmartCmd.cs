using System.Buffers.Binary;

namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>
/// ndctl inject-smart (ndctl/inject-smart.c) with the Intel DIMM family ops (ndctl/lib/intel.c): thresholds and
/// alarms through SMART_THRESHOLD + SMART_SET_THRESHOLD, values through SMART_INJECT (one command per field), then the
/// DIMM and its health printed as a one-element array.
/// </summary>
internal static class InjectSmartCmd
{
    private static readonly Opt[] Options =
    [
        new('b', "bus", OptKind.String, "bus-id", "limit dimm to a bus with an id or provider of <bus-id>"),
        new('v', "verbose", OptKind.Boolean, null, "emit extra debug messages to stderr"),
        new('u', "human", OptKind.Boolean, null, "use human friendly number formats"),
        new('m', "media-temperature", OptKind.String, "smart media temperature attribute", "inject a value for smart media temperature"),
        new('M', "media-temperature-threshold", OptKind.String, "set smart media temperature threshold", "set threshold value for smart media temperature"),
        new('\0', "media-temperature-alarm", OptKind.String, "smart media temperature alarm", "enable or disable the smart media temperature alarm"),
        new('\0', "media-temperature-uninject", OptKind.Boolean, null, "uninject media temperature"),
        new('c', "ctrl-temperature", OptKind.String, "smart controller temperature attribute", "inject a value for smart controller temperature"),
        new('C', "ctrl-temperature-threshold", OptKind.String, "set smart controller temperature threshold", "set threshold value for smart controller temperature"),
        new('\0', "ctrl-temperature-alarm", OptKind.String, "smart controller temperature alarm", "enable or disable the smart controller temperature alarm"),
        new('\0', "ctrl-temperature-uninject", OptKind.Boolean, null, "uninject controller temperature"),
        new('s', "spares", OptKind.String, "smart spares attribute", "inject a value for smart spares"),
        new('S', "spares-threshold", OptKind.String, "set smart spares threshold", "set a threshold value for smart spares"),
        new('\0', "spares-alarm", OptKind.String, "smart spares alarm", "enable or disable the smart spares alarm"),
        new('\0', "spares-uninject", OptKind.Boolean, null, "uninject spare percentage"),
        new('f', "fatal", OptKind.Boolean, null, "inject fatal smart health status"),
        new('F', "fatal-uninject", OptKind.Boolean, null, "uninject fatal health condition"),
        new('U', "unsafe-shutdown", OptKind.Boolean, null, "inject smart unsafe shutdown status"),
        new('\0', "unsafe-shutdown-uninject", OptKind.Boolean, null, "uninject unsafe shutdown status"),
        new('N', "uninject-all", OptKind.Boolean, null, "uninject all possible fields"),
    ];

    private static readonly string[] Usage = ["ndctl inject-smart <dimm> [<options>]"];

    private const int ALARM_ON = 1, ALARM_OFF = 2;

    private sealed class Ctx
    {
        public bool Set, Inject, AlarmsPresent, ErrContinue;
        public uint MTemp, CTemp, MTempThr, CTempThr;
        public ulong Spares, SparesThr;
        public int MAlarm, CAlarm, SAlarm;
        public string? MTempArg, CTempArg, SparesArg;
        public bool MTempThrGiven, CTempThrGiven, SparesThrGiven;
        public bool Fatal, Unsafe, MTempUninj, CTempUninj, SparesUninj, FatalUninj, UnsafeUninj;
    }

    public static int Run(NdctlIo io, string[] argv)
    {
        var v = new OptValues();
        var args = ParseOptions.Parse(io, argv, Options, Usage, v);
        var c = new Ctx();
        var rc = Init(io, v, c);
        if (rc != 0) return rc;
        if (args.Count == 0) io.Error("specify a dimm for the smart operation\n");
        foreach (var a in args.Skip(1)) io.Error($"unknown extra parameter \"{a}\"\n");
        if (args.Count != 1) ParseOptions.UsageWithOptions(io, Usage, Options);
        var ctx = new NdCtx(io);
        foreach (var bus in ctx.Buses)
        {
            if (!FilterParams.BusMatch(bus, v.Str("bus"))) continue;
            foreach (var d in bus.Dimms)
            {
                if (!FilterParams.DimmMatch(d, args[0])) continue;
                return DimmInjectSmart(io, d, c, v.Bool("human") ? JsonFlags.Human : JsonFlags.None);
            }
        }
        io.Error($"{args[0]}: no such dimm\n");
        return -Uapi.Errno.ENXIO;
    }

    /// <summary>smart_init: parse values (temperatures with strtod then the integer-degree encoding), alarms and uninjections.</summary>
    private static int Init(NdctlIo io, OptValues v, Ctx c)
    {
        int Temps(string name, string? arg, string? thr, ref uint val, ref uint thrVal)
        {
            if (arg != null)
            {
                var t = CStr.StrToD(arg);
                if (double.IsInfinity(t)) return io.Error($"Invalid argument: {name}: {arg}\n") * 0 - Uapi.Errno.EINVAL;
                val = NdJson.EncodeTemp(t);
                c.Inject = true;
            }
            if (thr != null)
            {
                var t = CStr.StrToD(thr);
                if (double.IsInfinity(t)) return io.Error($"Invalid argument: {thr}\n") * 0 - Uapi.Errno.EINVAL;
                thrVal = NdJson.EncodeTemp(t);
                c.Set = true;
            }
            return 0;
        }
        c.MTempArg = v.Str("media-temperature");
        c.MTempThrGiven = v.Str("media-temperature-threshold") != null;
        c.CTempThrGiven = v.Str("ctrl-temperature-threshold") != null;
        c.SparesThrGiven = v.Str("spares-threshold") != null;
        c.CTempArg = v.Str("ctrl-temperature");
        c.SparesArg = v.Str("spares");
        var rc = Temps("media_temperature", c.MTempArg, v.Str("media-temperature-threshold"), ref c.MTemp, ref c.MTempThr);
        if (rc != 0) return rc;
        rc = Temps("ctrl_temperature", c.CTempArg, v.Str("ctrl-temperature-threshold"), ref c.CTemp, ref c.CTempThr);
        if (rc != 0) return rc;
        if (c.SparesArg != null)
        {
            c.Spares = unchecked((ulong)CStr.StrToL(c.SparesArg, 0, out _));
            if (c.Spares == ulong.MaxValue || c.Spares > uint.MaxValue)
            {
                io.Error($"Invalid argument: spares: {c.SparesArg}\n");
                return -Uapi.Errno.EINVAL;
            }
            c.Inject = true;
        }
        if (v.Str("spares-threshold") is { } st)
        {
            c.SparesThr = unchecked((ulong)CStr.StrToL(st, 0, out _));
            if (c.SparesThr == ulong.MaxValue || c.SparesThr > uint.MaxValue)
            {
                io.Error($"Invalid argument: {st}\n");
                return -Uapi.Errno.EINVAL;
            }
            c.Set = true;
        }
        int Alarm(string? a)
        {
            if (a == null) return 0;
            c.AlarmsPresent = true;
            return a.StartsWith("on", StringComparison.Ordinal) ? ALARM_ON : a.StartsWith("off", StringComparison.Ordinal) ? ALARM_OFF : 0;
        }
        c.MAlarm = Alarm(v.Str("media-temperature-alarm"));
        c.CAlarm = Alarm(v.Str("ctrl-temperature-alarm"));
        c.SAlarm = Alarm(v.Str("spares-alarm"));
        if (c.AlarmsPresent) c.Set = true;
        c.Fatal = v.Bool("fatal");
        c.Unsafe = v.Bool("unsafe-shutdown");
        if (c.Fatal || c.Unsafe) c.Inject = true;
        c.MTempUninj = v.Bool("media-temperature-uninject");
        c.CTempUninj = v.Bool("ctrl-temperature-uninject");
        c.SparesUninj = v.Bool("spares-uninject");
        c.FatalUninj = v.Bool("fatal-uninject");
        c.UnsafeUninj = v.Bool("unsafe-shutdown-uninject");
        if (v.Bool("uninject-all"))
        {
            c.MTempUninj = c.CTempUninj = c.SparesUninj = c.FatalUninj = c.UnsafeUninj = true;
            c.ErrContinue = true;
        }
        int Uninj(bool uninj, string name, bool given, Action set)
        {
            if (!uninj) return 0;
            if (given)
            {
                io.Error($"Cannot use {name} inject and uninject together\n");
                return -Uapi.Errno.EINVAL;
            }
            set();
            c.Inject = true;
            return 0;
        }
        if ((rc = Uninj(c.MTempUninj, "media_temperature", c.MTempArg != null, () => { c.MTempArg = "0"; c.MTemp = 0; })) != 0) return rc;
        if ((rc = Uninj(c.CTempUninj, "ctrl_temperature", c.CTempArg != null, () => { c.CTempArg = "0"; c.CTemp = 0; })) != 0) return rc;
        if ((rc = Uninj(c.SparesUninj, "spares", c.SparesArg != null, () => { c.SparesArg = "0"; c.Spares = 0; })) != 0) return rc;
        if ((rc = Uninj(c.FatalUninj, "fatal", c.Fatal, () => c.Fatal = true)) != 0) return rc;
        if ((rc = Uninj(c.UnsafeUninj, "unsafe_shutdown", c.Unsafe, () => c.Unsafe = true)) != 0) return rc;
        if (!c.Set && !c.Inject)
        {
            io.Error("No valid operation specified\n");
            return -Uapi.Errno.EINVAL;
        }
        return 0;
    }

    /// <summary>dimm_inject_smart: check support, set thresholds, inject, then print the DIMM with "health".</summary>
    private static int DimmInjectSmart(NdctlIo io, NdDimm d, Ctx c, JsonFlags flags)
    {
        var name = d.Devname;
        // intel_dimm_smart_inject_supported (ops present only for the Intel family: else -ENOTTY).
        int supported;
        if (!d.IntelOps) supported = -Uapi.Errno.ENOTTY;
        else if (!d.IsCmdSupported(NdCmd.ND_CMD_CALL)) supported = -Uapi.Errno.EOPNOTSUPP;
        else if (!d.TestDsm(NdCmd.ND_INTEL_SMART_INJECT)) supported = -Uapi.Errno.EIO;
        else supported = 0x1f;
        switch (supported)
        {
            case -Uapi.Errno.ENOTTY:
                io.Error($"{name}: smart injection not supported by ndctl.");
                return supported;
            case -Uapi.Errno.EOPNOTSUPP:
                io.Error($"{name}: smart injection not supported by the kernel");
                return supported;
            case -Uapi.Errno.EIO:
                io.Error($"{name}: smart injection not supported by either platform firmware or the kernel.");
                return supported;
        }
        var rc = 0;
        if (c.Set && (rc = SetThresholds(io, d, c)) != 0) return rc;
        if (c.Inject && (rc = Inject(io, d, c)) != 0) return rc;
        d.RefreshFlags();
        var jdimm = NdJson.Dimm(d, flags);
        if (NdJson.Health(d) is { } h)
        {
            jdimm.Add("health", h);
            NdJson.DisplayArray(io, new JArray().Add(jdimm), flags);
        }
        return 0;
    }

    /// <summary>smart_set_thresh: read the thresholds, change the given fields and alarm bits, write them back.</summary>
    private static int SetThresholds(NdctlIo io, NdDimm d, Ctx c)
    {
        var name = d.Devname;
        var rc = NdCmd.IntelCall(d, NdCmd.ND_INTEL_SMART_THRESHOLD, [], 12, out var t);
        if (rc == null)
        {
            io.Error($"{name}: no smart threshold command support\n");
            return -Uapi.Errno.EOPNOTSUPP;
        }
        var r = rc.Value >= 0 ? NdCmd.IntelXlat(NdCmd.ND_INTEL_SMART_THRESHOLD, BinaryPrimitives.ReadUInt32LittleEndian(t)) : rc.Value;
        if (r < 0)
        {
            io.Error($"{name}: smart threshold command failed: {NdctlMain.StrErr(r)} ({r})\n");
            return r;
        }
        // struct nd_intel_smart_set_threshold: alarm_control u16, spares u8, media_temperature u16, ctrl_temperature u16, status u32.
        var set = new byte[7];
        t.AsSpan(4, 7).CopyTo(set);
        if (c.MTempThrGiven) BinaryPrimitives.WriteUInt16LittleEndian(set.AsSpan(3), (ushort)c.MTempThr);
        if (c.CTempThrGiven) BinaryPrimitives.WriteUInt16LittleEndian(set.AsSpan(5), (ushort)c.CTempThr);
        if (c.SparesThrGiven) set[2] = (byte)c.SparesThr;
        if (c.AlarmsPresent)
        {
            var alarm = (uint)BinaryPrimitives.ReadUInt16LittleEndian(t.AsSpan(4)) & 7;
            if (c.MAlarm == ALARM_ON) alarm |= 2;
            else if (c.MAlarm == ALARM_OFF) alarm &= ~2u;
            if (c.CAlarm == ALARM_ON) alarm |= 4;
            else if (c.CAlarm == ALARM_OFF) alarm &= ~4u;
            if (c.SAlarm == ALARM_ON) alarm |= 1;
            else if (c.SAlarm == ALARM_OFF) alarm &= ~1u;
            BinaryPrimitives.WriteUInt16LittleEndian(set, (ushort)alarm);
        }
        rc = NdCmd.IntelCall(d, NdCmd.ND_INTEL_SMART_SET_THRESHOLD, set, 4, out var reply);
        if (rc == null)
        {
            io.Error($"{name}: no smart set threshold command support\n");
            return -Uapi.Errno.EOPNOTSUPP;
        }
        r = rc.Value >= 0 ? NdCmd.IntelXlat(NdCmd.ND_INTEL_SMART_SET_THRESHOLD, BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(7))) : rc.Value;
        if (r < 0) io.Error($"{name}: smart set threshold command failed: {NdctlMain.StrErr(r)} ({r})\n");
        return r < 0 ? r : 0;
    }

    /// <summary>smart_inject: one SMART_INJECT (struct nd_intel_smart_inject) per requested field, in ndctl's order.</summary>
    private static int Inject(NdctlIo io, NdDimm d, Ctx c)
    {
        var name = d.Devname;
        var rc = -Uapi.Errno.EOPNOTSUPP;
        // flags u64, mtemp_enable u8, media_temperature u16, spare_enable u8, spares u8, fatal_enable u8, unsafe_shutdown_enable u8, status u32.
        (string Field, bool Given, Action<byte[]>? Fill)[] fields =
        [
            ("media_temperature", c.MTempArg != null, b => { b[0] = 1; b[8] = (byte)(c.MTempUninj ? 0 : 1); BinaryPrimitives.WriteUInt16LittleEndian(b.AsSpan(9), (ushort)c.MTemp); }),
            ("ctrl_temperature", c.CTempArg != null, null),
            ("spares", c.SparesArg != null, b => { b[0] = 2; b[11] = (byte)(c.SparesUninj ? 0 : 1); b[12] = (byte)c.Spares; }),
            ("fatal", c.Fatal, b => { b[0] = 4; b[13] = (byte)(c.FatalUninj ? 0 : 1); }),
            ("unsafe_shutdown", c.Unsafe, b => { b[0] = 8; b[14] = (byte)(c.UnsafeUninj ? 0 : 1); }),
        ];
        foreach (var (field, given, fill) in fields)
        {
            if (!given) continue;
            if (!d.IsCmdSupported(NdCmd.ND_CMD_CALL) || !d.TestDsm(NdCmd.ND_INTEL_SMART_INJECT))
            {
                io.Error($"{name}: no smart inject command support\n");
                if (!c.ErrContinue) return rc;
                continue;
            }
            if (fill == null)
            {
                // The Intel ops have no smart_inject_ctrl_temperature: ndctl_cmd_smart_inject_ctrl_temperature is -ENXIO.
                rc = -Uapi.Errno.ENXIO;
                io.Error($"{name}: smart inject {field} cmd invalid: {NdctlMain.StrErr(rc)} ({rc})\n");
                if (!c.ErrContinue) return rc;
                continue;
            }
            var input = new byte[15];
            fill(input);
            var r = NdCmd.IntelCall(d, NdCmd.ND_INTEL_SMART_INJECT, input, 4, out var reply)!.Value;
            rc = r >= 0 ? NdCmd.IntelXlat(NdCmd.ND_INTEL_SMART_INJECT, BinaryPrimitives.ReadUInt32LittleEndian(reply.AsSpan(15))) : r;
            if (rc < 0)
            {
                io.Error($"{name}: smart inject {field} command failed: {NdctlMain.StrErr(rc)} ({rc})\n");
                if (!c.ErrContinue) return rc;
            }
        }
        return rc;
    }
}
