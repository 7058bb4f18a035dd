namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>ndctl start-scrub / wait-scrub (ndctl/bus.c bus_action).</summary>
internal static class BusCmds
{
    private static readonly Opt Verbose = new('v', "verbose", OptKind.Boolean, null, "turn on debug");
    private static readonly Opt[] StartOptions = [Verbose];
    private static readonly Opt[] WaitOptions = [Verbose, new('p', "poll", OptKind.UInteger, null, "poll interval (seconds)")];

    public static int StartScrub(NdctlIo io, string[] argv)
    {
        var n = BusAction(io, argv, "ndctl start-scrub [<bus-id> <bus-id2> ... <bus-idN>] [<options>]", StartOptions, false);
        if (n > 0) return 0;
        io.Err.Append("error starting scrub: ").Append(NdctlMain.StrErr(n)).Append('\n');
        return n;
    }

    public static int WaitScrub(NdctlIo io, string[] argv)
    {
        var n = BusAction(io, argv, "ndctl wait-scrub [<bus-id> <bus-id2> ... <bus-idN>] [<options>]", WaitOptions, true);
        if (n > 0) return 0;
        io.Err.Append("error waiting for scrub completion: ").Append(NdctlMain.StrErr(n)).Append('\n');
        return n;
    }

    /// <summary>bus_action: every bus matching an argument ("all" by default); the successful ones printed (-u style).</summary>
    private static int BusAction(NdctlIo io, string[] argv, string usage, Opt[] options, bool wait)
    {
        var v = new OptValues();
        var args = ParseOptions.Parse(io, argv, options, [usage], v);
        if (args.Count == 0 || args.Contains("all")) args = ["all"];
        var ctx = new NdCtx(io);
        var jbuses = new JArray();
        int success = 0, fail = 0;
        foreach (var a in args)
        {
            var found = 0;
            foreach (var bus in ctx.Buses)
            {
                if (!FilterParams.BusMatch(bus, a)) continue;
                found++;
                var rc = wait ? bus.PollScrubCompletion((uint)v.Int("poll"), 0) : bus.StartScrub();
                if (rc == 0)
                {
                    success++;
                    jbuses.Add(NdJson.Bus(bus));
                }
                else if (fail == 0) fail = rc;
            }
            if (found == 0 && v.Bool("verbose")) io.Err.Append("no bus matches id: ").Append(a).Append('\n');
        }
        // util_display_json_array(stdout, jbuses, UTIL_JSON_FIRMWARE): not human, so always the array.
        if (success > 0) NdJson.DisplayArray(io, jbuses, JsonFlags.None);
        return success > 0 ? success : fail != 0 ? fail : -Uapi.Errno.ENXIO;
    }
}

/// <summary>ndctl enable-region / disable-region (ndctl/region.c).</summary>
internal static class RegionCmds
{
    private static readonly Opt[] Options =
    [
        new('b', "bus", OptKind.String, "bus-id", "<region> must be on a bus with an id/provider of <bus-id>"),
        new('t', "type", OptKind.String, "region-type", "<region> must be of the specified type"),
    ];

    public static int Enable(NdctlIo io, string[] argv) => Xable(io, argv, true);

    public static int Disable(NdctlIo io, string[] argv) => Xable(io, argv, false);

    private static int Xable(NdctlIo io, string[] argv, bool enable)
    {
        var verb = enable ? "enable" : "disable";
        string[] usage = [$"ndctl {verb}-region <region> [<options>]"];
        var v = new OptValues();
        var args = ParseOptions.Parse(io, argv, Options, usage, v);
        if (args.Count == 0) io.Error("specify a specific region id to act on, or \"all\"\n");
        foreach (var a in args.Skip(1)) io.Error($"unknown extra parameter \"{a}\"\n");
        if (args.Count != 1) ParseOptions.UsageWithOptions(io, usage, Options);
        var type = v.Str("type");
        if (type != null && type is not ("pmem" or "blk"))
        {
            io.Error($"unknown region type '{type}', should be 'pmem' or 'blk'\n");
            ParseOptions.UsageWithOptions(io, usage, Options);
        }
        var ctx = new NdCtx(io);
        var success = 0;
        foreach (var bus in ctx.Buses)
        {
            if (!FilterParams.BusMatch(bus, v.Str("bus"))) continue;
            foreach (var r in bus.Regions)
            {
                if (type != null && r.TypeName != type) continue;
                if (!FilterParams.RegionMatch(r, args[0])) continue;
                if (Action(r, enable) == 0) success++;
            }
        }
        var past = enable ? "enabled" : "disabled";
        io.Err.Append(success == 0 ? $"{past} 0 regions\n" : $"{past} {success} region{(success > 1 ? "s" : "")}\n");
        return 0;
    }

    /// <summary>region_action: enable; or disable every namespace safely, then the region.</summary>
    private static int Action(NdRegion r, bool enable)
    {
        if (enable) return r.Enable();
        foreach (var ns in r.Namespaces.ToList())
        {
            var rc = ns.DisableSafe();
            if (rc != 0) return rc;
        }
        return r.Disable();
    }
}

/// <summary>ndctl inject-error (ndctl/inject-error.c over ndctl/lib/inject.c).</summary>
internal static class InjectErrorCmd
{
    private static readonly Opt[] Options =
    [
        new('b', "bus", OptKind.String, "bus-id", "limit namespace to a bus with an id or provider of <bus-id>"),
        new('r', "region", OptKind.String, "region-id", "limit namespace to a region with an id or name of <region-id>"),
        new('v', "verbose", OptKind.Boolean, null, "emit extra debug messages to stderr"),
        new('B', "block", OptKind.String, "namespace block offset (512B)", "specify the block at which to (un)inject the error"),
        new('n', "count", OptKind.String, "count", "specify the number of blocks of errors to (un)inject"),
        new('d', "uninject", OptKind.Boolean, null, "un-inject a previously injected error"),
        new('t', "status", OptKind.Boolean, null, "get error injection status"),
        new('N', "no-notify", OptKind.Boolean, null, "firmware should not notify OS"),
        new('S', "saturate", OptKind.Boolean, null, "inject full sector, not just 'ars_unit' bytes"),
        new('u', "human", OptKind.Boolean, null, "use human friendly number formats "),
    ];

    private static readonly string[] Usage = ["ndctl inject-error <namespace> [<options>]"];

    public static int Run(NdctlIo io, string[] argv)
    {
        var v = new OptValues();
        var args = ParseOptions.Parse(io, argv, Options, Usage, v);
        // inject_init
        bool clear = v.Bool("uninject"), status = v.Bool("status"), saturate = v.Bool("saturate");
        string? pblock = v.Str("block"), pcount = v.Str("count");
        bool inject = !clear && !status;
        var notify = inject && !v.Bool("no-notify");
        if (clear && status || status && (pblock != null || pcount != null || saturate))
        {
            io.Error("status is invalid with inject or uninject\n");
            return -Uapi.Errno.EINVAL;
        }
        ulong block = 0, count = 0;
        if (pblock != null && (block = SizeParse.Parse64(pblock)) == ulong.MaxValue)
        {
            io.Error($"Invalid block: {pblock}\n");
            return -Uapi.Errno.EINVAL;
        }
        if (pcount != null && (count = SizeParse.Parse64(pcount)) == ulong.MaxValue)
        {
            io.Error($"Invalid count: {pcount}\n");
            return -Uapi.Errno.EINVAL;
        }
        if ((inject || clear) && (pblock == null || pcount == null))
        {
            io.Error("block and count required for inject/uninject\n");
            return -Uapi.Errno.EINVAL;
        }
        var flags = v.Bool("human") ? JsonFlags.Human : JsonFlags.None;
        if (args.Count == 0) io.Error("specify a namespace to inject error to\n");
        foreach (var a in args.Skip(1)) io.Error($"unknown extra parameter \"{a}\"\n");
        if (args.Count != 1) ParseOptions.UsageWithOptions(io, Usage, Options);

        var ctx = new NdCtx(io);
        foreach (var bus in ctx.Buses)
        {
            if (!FilterParams.BusMatch(bus, v.Str("bus"))) continue;
            foreach (var region in bus.Regions)
            {
                if (!FilterParams.RegionMatch(region, v.Str("region"))) continue;
                foreach (var ns in region.Namespaces)
                {
                    if (ns.Devname != args[0]) continue;
                    if (!bus.HasErrorInjection)
                    {
                        io.Err.Append(ns.Devname).Append(": error injection not supported\n");
                        return -Uapi.Errno.EOPNOTSUPP;
                    }
                    if (inject) return Inject(io, ns, block, count, notify, saturate, flags);
                    if (clear) return Uninject(io, ns, block, count, saturate, flags);
                    return Status(io, ns, flags);
                }
            }
        }
        io.Error($"{args[0]}: no such namespace\n");
        return -Uapi.Errno.ENXIO;
    }

    /// <summary>ndctl_namespace_get_injection_bounds: the pfn/dax data area, −EOPNOTSUPP for a btt, else the raw namespace.</summary>
    private static int Bounds(NdNamespace ns, out ulong offset, out ulong size)
    {
        offset = size = 0;
        if (ns.Pfn is { } pfn) (offset, size) = (pfn.Resource, pfn.Size);
        else if (ns.Dax is { } dax) (offset, size) = (dax.Resource, dax.Size);
        else if (ns.Btt != null) return -Uapi.Errno.EOPNOTSUPP;
        else (offset, size) = (ns.Resource, ns.Size);
        return 0;
    }

    /// <summary>ndctl_namespace_get_clear_unit: ARS_CAP over the bounds; its clear_err_unit (0 → −EINVAL).</summary>
    private static int ClearUnit(NdNamespace ns, ulong off, ulong size)
    {
        var rc = NdCmd.ArsCap(ns.Region.Bus, off, size, out _, out _, out var unit);
        if (rc == -Uapi.Errno.ENOTTY && !ns.Region.Bus.IsCmdSupported(NdCmd.ND_CMD_ARS_CAP))
        {
            ns.Region.Bus.Ctx.Io.LibErr("ndctl_namespace_get_clear_unit", $"{ns.Devname}: failed to create cmd\n");
            return rc;
        }
        if (rc < 0) return rc;
        return unit == 0 ? -Uapi.Errno.EINVAL : (int)unit;
    }

    /// <summary>ndctl_namespace_inject_error2 / uninject_error2: one ARS_INJECT_SET/CLEAR per 512-byte block.</summary>
    private static int InjectBlocks(NdNamespace ns, ulong block, ulong count, bool clear, bool notify, bool saturate)
    {
        var rc = -Uapi.Errno.EINVAL;
        for (ulong i = 0; i < count; i++)
        {
            rc = Bounds(ns, out var nsOff, out var nsSize);
            if (rc == 0)
            {
                var offset = nsOff + (block + i) * 512;
                ulong length = 512;
                if (offset + length > nsOff + nsSize) rc = -Uapi.Errno.EINVAL;
                else
                {
                    rc = ClearUnit(ns, nsOff, nsSize);
                    if (rc >= 0)
                    {
                        if (!saturate && length > (uint)rc) length = (uint)rc;
                        rc = NdCmd.ErrInj(ns.Region.Bus, clear, offset, length, notify);
                    }
                }
            }
            if (rc != 0)
            {
                ns.Region.Bus.Ctx.Io.LibErr(clear ? "ndctl_namespace_uninject_error2" : "ndctl_namespace_inject_error2",
                    $"{(clear ? "Un-injection" : "Injection")} failed at block {block + i:x}\n");
                return rc;
            }
        }
        return rc;
    }

    private static int Inject(NdctlIo io, NdNamespace ns, ulong block, ulong count, bool notify, bool saturate, JsonFlags flags)
    {
        var bus = ns.Region.Bus;
        var start = bus.ScrubCount;
        if (start == uint.MaxValue)
        {
            io.Err.Append("Unable to get scrub count\n");
            return -Uapi.Errno.ENXIO;
        }
        var rc = InjectBlocks(ns, block, count, false, notify, saturate);
        if (rc != 0)
        {
            io.Err.Append($"Unable to inject error: {NdctlMain.StrErr(rc)} ({rc})\n");
            return rc;
        }
        return ErrorsToJson(io, ns, start, notify, flags);
    }

    private static int Uninject(NdctlIo io, NdNamespace ns, ulong block, ulong count, bool saturate, JsonFlags flags)
    {
        var rc = InjectBlocks(ns, block, count, true, false, saturate);
        if (rc != 0)
        {
            io.Err.Append($"Unable to uninject error: {NdctlMain.StrErr(rc)} ({rc})\n");
            return rc;
        }
        io.Out.Append("Warning: Un-injecting previously injected errors here will\n");
        io.Out.Append("not cause the kernel to 'forget' its badblock entries. Those\n");
        io.Out.Append("have to be cleared through the normal process of writing\n");
        io.Out.Append("the affected blocks\n\n");
        return ErrorsToJson(io, ns, 0, false, flags);
    }

    /// <summary>
    /// ns_errors_to_json: after an inject with notify, wait (sleep 1 s, up to 30 times) for the scrub count to pass
    /// the count read before, then for the scrub to complete; print the namespace with its media errors.
    /// </summary>
    private static int ErrorsToJson(NdctlIo io, NdNamespace ns, uint startCount, bool waitScrub, JsonFlags flags)
    {
        var bus = ns.Region.Bus;
        if (waitScrub)
        {
            var tmo = 30;
            uint count;
            do
            {
                count = bus.ScrubCount;
                if (count == uint.MaxValue)
                {
                    io.Err.Append("Unable to get scrub count\n");
                    return -Uapi.Errno.ENXIO;
                }
                io.P.Nanosleep(1_000_000_000);
            } while (count <= startCount && --tmo > 0);
            var rc = bus.PollScrubCompletion(0, 0);
            if (rc != 0)
            {
                io.Err.Append("Error waiting for scrub\n");
                return rc;
            }
        }
        if (NdJson.Namespace(ns, flags | JsonFlags.MediaErrors) is { } j)
        {
            j.WritePretty(io.Out);
            io.Out.Append('\n');
        }
        return 0;
    }

    /// <summary>injection_status: ARS_CAP for max_ars_out, ARS_INJECT_GET, records inside the bounds merged into block runs.</summary>
    private static int Status(NdctlIo io, NdNamespace ns, JsonFlags flags)
    {
        var bus = ns.Region.Bus;
        var rc = Bounds(ns, out var nsOff, out var nsSize);
        var runs = new List<(ulong Block, ulong Count)>();
        if (rc == 0)
        {
            rc = NdCmd.ArsCap(bus, nsOff, nsSize, out _, out var maxOut, out _);
            if (rc == -Uapi.Errno.ENOTTY && !bus.IsCmdSupported(NdCmd.ND_CMD_ARS_CAP))
                io.LibErr("ndctl_namespace_injection_status", $"{ns.Devname}: failed to create cmd\n");
            else if (rc >= 0 && maxOut == 0) rc = -Uapi.Errno.EINVAL;
            else if (rc >= 0)
            {
                rc = NdCmd.ErrInjStat(bus, maxOut, out var recs);
                if (rc >= 0)
                {
                    rc = 0;
                    foreach (var (b, l) in recs)
                    {
                        if (b < nsOff || b >= nsOff + nsSize) continue;
                        var nsoff = b - nsOff;
                        var block = nsoff / 512;
                        var pad = nsoff - block * 512;
                        AddRecord(runs, block, (pad + l + 511) / 512);
                    }
                }
            }
        }
        if (rc != 0)
        {
            io.Err.Append($"Unable to get injection status: {NdctlMain.StrErr(rc)} ({rc})\n");
            return rc;
        }
        if (runs.Count > 0)
        {
            var arr = new JArray();
            foreach (var (b, c) in runs) arr.Add(NdJson.BadblockRec(b, c, flags));
            io.Out.Append(new JObject().Add("badblocks", arr).ToPretty()).Append('\n');
        }
        return 0;
    }

    /// <summary>bb_add_record: keep the list sorted by block, then merge overlapping or adjoining runs.</summary>
    private static void AddRecord(List<(ulong Block, ulong Count)> list, ulong block, ulong count)
    {
        var i = list.FindIndex(r => block < r.Block);
        list.Insert(i < 0 ? list.Count : i, (block, count));
        for (var k = 0; k + 1 < list.Count;)
        {
            var (cs, cc) = list[k];
            var (ns, nc) = list[k + 1];
            var ce = cs + cc - 1;
            var ne = ns + nc - 1;
            if (ce >= ns || ns == ce + 1)
            {
                list[k] = (cs, Math.Max(ce, ne) - cs + 1);
                list.RemoveAt(k + 1);
            }
            else k++;
        }
    }
}

/// <summary>
/// util/size.c __parse_size64: strtoull (base 0; "-1" wraps to ULLONG_MAX), one optional k/K, m/M, g/G, t/T suffix,
/// nothing after it, no overflow; ULLONG_MAX when invalid (an empty string is 0, as in ndctl).
/// </summary>
internal static class SizeParse
{
    public static ulong Parse64(string s) => Parse64(s, out _);

    public static ulong Parse64(string s, out ulong units)
    {
        units = 1;
        var val = unchecked((ulong)CStr.StrToL(s, 0, out var end));
        if (val == ulong.MaxValue) return val;
        var check = val;
        if (end < s.Length)
        {
            switch (s[end])
            {
                case 'k' or 'K': units = 1UL << 10; break;
                case 'm' or 'M': units = 1UL << 20; break;
                case 'g' or 'G': units = 1UL << 30; break;
                case 't' or 'T': units = 1UL << 40; break;
            }
            if (units != 1)
            {
                val = unchecked(val * units);
                end++;
            }
        }
        return val < check || end != s.Length ? ulong.MaxValue : val;
    }
}
