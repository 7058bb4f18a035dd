namespace KernelSim.Drivers.Pmem.LibNdctl;

/// <summary>UTIL_JSON_* flags (util/json.h).</summary>
[Flags]
internal enum JsonFlags { None = 0, Idle = 1, MediaErrors = 2, Dax = 4, Human = 8, Verbose = 16, Configured = 32 }

/// <summary>ndctl/json.c and ndctl/json-smart.c: the JSON objects ndctl prints for buses, DIMMs, health, regions and namespaces.</summary>
internal static class NdJson
{
    /// <summary>util_bus_to_json: provider, dev, scrub_state (when the scrub attribute is readable).</summary>
    public static JObject Bus(NdBus bus)
    {
        var j = new JObject().Add("provider", new JString(bus.Provider)).Add("dev", new JString(bus.Devname));
        if (bus.GetScrubState(out _, out var active) == 0) j.Add("scrub_state", new JString(active ? "active" : "idle"));
        return j;
    }

    /// <summary>util_dimm_to_json: dev, id, handle, phys_id, state, flag_* and security.</summary>
    public static JObject Dimm(NdDimm d, JsonFlags flags)
    {
        var human = flags.HasFlag(JsonFlags.Human);
        var j = new JObject().Add("dev", new JString(d.Devname));
        if (d.UniqueId != null) j.Add("id", new JString(d.UniqueId));
        if (d.Handle < uint.MaxValue) j.Add("handle", new JHex(d.Handle, human));
        if (d.PhysId < ushort.MaxValue) j.Add("phys_id", new JHex(d.PhysId, human));
        if (!d.IsEnabled) j.Add("state", new JString("disabled"));
        foreach (var (flag, key) in new[] { ("map_fail", "flag_failed_map"), ("save_fail", "flag_failed_save"), ("not_armed", "flag_failed_arm"),
                     ("restore_fail", "flag_failed_restore"), ("flush_fail", "flag_failed_flush"), ("smart_event", "flag_smart_event") })
            if (d.Flags.Contains(flag)) j.Add(key, new JBool(true));
        if (d.Security is { } s) j.Add("security", new JString(s));
        if (d.Security == "frozen" || d.Bus.Ctx.Attr(NdStrings.Path(d.Path, "frozen")) is "1") j.Add("security_frozen", new JBool(true));
        return j;
    }

    /// <summary>ndctl_decode_smart_temperature: bit 15 is the sign, the rest sixteenths of a degree.</summary>
    public static double DecodeTemp(uint t) => ((t & 0x7fff) / 16.0) * ((t & 0x8000) != 0 ? -1 : 1);

    /// <summary>ndctl_encode_smart_temperature: the integer part only (t = temp; t *= 16), bit 15 for negative.</summary>
    public static uint EncodeTemp(double temp)
    {
        var neg = temp < 0;
        if (neg) temp = -temp;
        var t = (uint)temp * 16;
        return neg ? t | 0x8000 : t;
    }

    /// <summary>
    /// util_dimm_health_to_json over the Intel SMART payload (struct nd_intel_smart, 128 bytes after status):
    /// health_state, temperature_celsius, controller_temperature_celsius, spares_percentage, alarm_*, the thresholds,
    /// life_used_percentage, shutdown_state, shutdown_count. Null when the DIMM cannot build a SMART command.
    /// </summary>
    public static JObject? Health(NdDimm d)
    {
        if (!d.IntelOps) return null;
        var rc = NdCmd.IntelCall(d, NdCmd.ND_INTEL_SMART, [], 132, out var p);
        if (rc == null) return null;
        var j = new JObject();
        uint status = p.Length >= 4 ? BitConverter.ToUInt32(p, 0) : 0;
        if (rc < 0 || NdCmd.IntelXlat(NdCmd.ND_INTEL_SMART, status) < 0)
        {
            j.Add("health_state", new JString("unknown"));
            return j;
        }
        var flags = BitConverter.ToUInt32(p, 4);
        var health = p[12];
        var spares = p[13];
        var lifeUsed = p[14];
        var alarm = p[15];
        var mtemp = BitConverter.ToUInt16(p, 16);
        var ctemp = BitConverter.ToUInt16(p, 18);
        var shutdownCount = BitConverter.ToUInt32(p, 20);
        var shutdownState = p[35];
        if ((flags & 1) != 0)
            j.Add("health_state", new JString((health & 4) != 0 ? "fatal" : (health & 2) != 0 ? "critical" : (health & 1) != 0 ? "non-critical" : "ok"));
        if ((flags & (1 << 3)) != 0) j.Add("temperature_celsius", new JDouble(DecodeTemp(mtemp)));
        if ((flags & (1 << 4)) != 0) j.Add("controller_temperature_celsius", new JDouble(DecodeTemp(ctemp)));
        if ((flags & (1 << 1)) != 0) j.Add("spares_percentage", new JInt((long)spares));
        if ((flags & (1 << 9)) != 0)
        {
            j.Add("alarm_temperature", new JBool((alarm & 2) != 0));
            j.Add("alarm_controller_temperature", new JBool((alarm & 4) != 0));
            j.Add("alarm_spares", new JBool((alarm & 1) != 0));
        }
        Thresholds(d, j);
        if ((flags & (1 << 2)) != 0) j.Add("life_used_percentage", new JInt((long)lifeUsed));
        if ((flags & (1 << 10)) != 0) j.Add("shutdown_state", new JString(shutdownState != 0 ? "dirty" : "clean"));
        if ((flags & (1 << 5)) != 0) j.Add("shutdown_count", new JInt((long)shutdownCount));
        return j;
    }

    /// <summary>smart_threshold_to_json: alarm_enabled_* and the enabled thresholds (struct nd_intel_smart_threshold).</summary>
    private static void Thresholds(NdDimm d, JObject j)
    {
        var rc = NdCmd.IntelCall(d, NdCmd.ND_INTEL_SMART_THRESHOLD, [], 12, out var p);
        if (rc == null || rc < 0 || NdCmd.IntelXlat(NdCmd.ND_INTEL_SMART_THRESHOLD, BitConverter.ToUInt32(p, 0)) < 0) return;
        var alarm = BitConverter.ToUInt16(p, 4);
        var spares = p[6];
        var mtemp = BitConverter.ToUInt16(p, 7);
        var ctemp = BitConverter.ToUInt16(p, 9);
        j.Add("alarm_enabled_media_temperature", new JBool((alarm & 2) != 0));
        if ((alarm & 2) != 0) j.Add("temperature_threshold", new JDouble(DecodeTemp(mtemp)));
        j.Add("alarm_enabled_ctrl_temperature", new JBool((alarm & 4) != 0));
        if ((alarm & 4) != 0) j.Add("controller_temperature_threshold", new JDouble(DecodeTemp(ctemp)));
        j.Add("alarm_enabled_spares", new JBool((alarm & 1) != 0));
        if ((alarm & 1) != 0) j.Add("spares_threshold", new JInt((long)spares));
    }

    /// <summary>util_mapping_to_json: dimm, offset, length, position.</summary>
    public static JObject Mapping(NdMapping m, JsonFlags flags)
    {
        var human = flags.HasFlag(JsonFlags.Human);
        var j = new JObject().Add("dimm", new JString(m.Dimm.Devname)).Add("offset", new JHex(m.Offset, human)).Add("length", new JHex(m.Length, human));
        if (m.Position >= 0) j.Add("position", new JInt((long)m.Position));
        return j;
    }

    /// <summary>badblocks_to_jdimms: the DIMMs under [addr, addr+len), found 512 bytes at a time.</summary>
    private static JArray? BadblockDimms(NdRegion region, ulong addr, ulong len)
    {
        var count = region.InterleaveWays;
        var found = new List<NdDimm>();
        for (var a = addr; found.Count < count && a < addr + len; a += 512)
        {
            var d = region.Bus.DimmByPhys(a);
            if (d != null && !found.Contains(d)) found.Add(d);
        }
        if (found.Count == 0) return null;
        var arr = new JArray();
        foreach (var d in found.OrderBy(x => x.Id)) arr.Add(new JString(d.Devname));
        return arr;
    }

    /// <summary>util_region_badblocks_to_json: the region's badblocks (offset from the region start, length, dimms) and their count.</summary>
    public static JArray? RegionBadblocks(NdRegion region, out uint count, JsonFlags flags)
    {
        count = 0;
        var arr = flags.HasFlag(JsonFlags.MediaErrors) ? new JArray() : null;
        foreach (var (off, len) in region.Badblocks())
        {
            count += len;
            if (arr == null) continue;
            var start = region.Resource;
            if (start == ulong.MaxValue) return null;
            var jbb = new JObject().Add("offset", new JInt(off)).Add("length", new JInt((long)len));
            if (BadblockDimms(region, start + (off << 9), (ulong)len << 9) is { } dimms) jbb.Add("dimms", dimms);
            arr.Add(jbb);
        }
        return count > 0 ? arr : null;
    }

    /// <summary>dev_badblocks_to_json: the region badblocks that overlap [begin, begin+size), relative to begin.</summary>
    private static JArray? DevBadblocks(NdRegion region, ulong begin, ulong size, out uint count, JsonFlags flags)
    {
        count = 0;
        var regionBegin = region.Resource;
        if (regionBegin == ulong.MaxValue) return null;
        var devEnd = begin + size - 1;
        var arr = flags.HasFlag(JsonFlags.MediaErrors) ? new JArray() : null;
        foreach (var (off, blen) in region.Badblocks())
        {
            var bbBegin = regionBegin + (off << 9);
            var bbEnd = bbBegin + ((ulong)blen << 9) - 1;
            if (bbEnd <= begin || bbBegin >= devEnd) continue;
            var b = Math.Max(bbBegin, begin);
            var e = Math.Min(bbEnd, devEnd);
            var o = (b - begin) >> 9;
            var len = (uint)((e - b + 1) >> 9);
            count += len;
            if (arr == null) continue;
            var jbb = new JObject().Add("offset", new JInt(o)).Add("length", new JInt((long)len));
            if (BadblockDimms(region, b, (ulong)len << 9) is { } dimms) jbb.Add("dimms", dimms);
            arr.Add(jbb);
        }
        return count > 0 ? arr : null;
    }

    /// <summary>util_namespace_badblocks_to_json: the block device's badblocks (offset, length).</summary>
    private static JArray? NamespaceBadblocks(NdNamespace ns, out uint count, JsonFlags flags)
    {
        count = 0;
        if (!flags.HasFlag(JsonFlags.MediaErrors)) return null;
        var arr = new JArray();
        foreach (var (off, len) in ns.Badblocks())
        {
            count += len;
            arr.Add(new JObject().Add("offset", new JInt(off)).Add("length", new JInt((long)len)));
        }
        return count > 0 ? arr : null;
    }

    /// <summary>
    /// util_namespace_to_json: dev, mode, map, size, uuid, raw_uuid (-v), chardev / daxregion, sector_size, align,
    /// blockdev, state, name, numa_node, badblock_count and badblocks — in that order, as ndctl prints them.
    /// </summary>
    public static JObject? Namespace(NdNamespace ns, JsonFlags flags)
    {
        var human = flags.HasFlag(JsonFlags.Human);
        var j = new JObject().Add("dev", new JString(ns.Devname));
        var btt = ns.Btt;
        var dax = ns.Dax;
        var pfn = ns.Pfn;
        var mode = ns.Mode;
        ulong size = ulong.MaxValue;
        string? loc = null;
        switch (mode)
        {
            case NsMode.Fsdax:
                if (pfn != null)
                {
                    size = pfn.Size;
                    loc = pfn.Location;
                }
                else
                {
                    size = ns.Size;
                    loc = "ram";
                }
                j.Add("mode", new JString("fsdax"));
                break;
            case NsMode.Devdax:
                if (dax == null) return null;
                size = dax.Size;
                loc = dax.Location;
                j.Add("mode", new JString("devdax"));
                break;
            case NsMode.Sector:
                if (btt == null) return null;
                size = btt.Size;
                j.Add("mode", new JString("sector"));
                break;
            case NsMode.Raw:
                size = ns.Size;
                j.Add("mode", new JString("raw"));
                break;
        }
        if (mode is not (NsMode.Sector or NsMode.Raw))
            j.Add("map", new JString(loc switch { "ram" => "mem", "pmem" => "dev", _ => "none" }));
        if (size < ulong.MaxValue) j.Add("size", new JSize(size, human));
        string? bdev = null;
        ulong align = 0;
        if (btt != null)
        {
            j.Add("uuid", new JString(btt.Uuid));
            RawUuid(ns, flags, j);
            bdev = btt.BlockDevice;
        }
        else if (pfn != null)
        {
            align = pfn.Align;
            j.Add("uuid", new JString(pfn.Uuid));
            RawUuid(ns, flags, j);
            bdev = pfn.BlockDevice;
        }
        else if (dax != null)
        {
            align = dax.Align;
            j.Add("uuid", new JString(dax.Uuid));
            RawUuid(ns, flags, j);
            if (flags.HasFlag(JsonFlags.Dax))
            {
                if (NamespaceCmds.DaxRegionJson(ns.Region.Bus.Ctx.Io, dax) is { } jr) j.Add("daxregion", jr);
            }
            else if (dax.DaxChardev is { } chardev) j.Add("chardev", new JString(chardev));
        }
        else
        {
            if (ns.Type != NdNamespace.ND_DEVICE_NAMESPACE_IO) j.Add("uuid", new JString(ns.Uuid));
            bdev = ns.BlockDevice;
        }
        var sectorSize = uint.MaxValue;
        if (btt != null) sectorSize = btt.SectorSize;
        else if (dax == null)
        {
            sectorSize = ns.SectorSize;
            if (sectorSize is 0 or uint.MaxValue) sectorSize = 512;
        }
        if (sectorSize < uint.MaxValue) j.Add("sector_size", new JInt((long)sectorSize));
        if (align != 0) j.Add("align", new JInt(align));
        if (!string.IsNullOrEmpty(bdev)) j.Add("blockdev", new JString(bdev));
        if (!ns.IsActive) j.Add("state", new JString("disabled"));
        if (ns.AltName.Length > 0) j.Add("name", new JString(ns.AltName));
        if (ns.NumaNode >= 0 && flags.HasFlag(JsonFlags.Verbose)) j.Add("numa_node", new JInt(ns.NumaNode));
        if (ns.TargetNode >= 0 && flags.HasFlag(JsonFlags.Verbose)) j.Add("target_node", new JInt(ns.TargetNode));
        JArray? jbbs = null;
        uint bbCount = 0;
        if (pfn != null)
            jbbs = pfn.Resource == ulong.MaxValue ? NamespaceBadblocks(ns, out bbCount, flags)
                : pfn.Size == ulong.MaxValue ? null : DevBadblocks(ns.Region, pfn.Resource, pfn.Size, out bbCount, flags);
        else if (dax != null)
            jbbs = dax.Resource == ulong.MaxValue || dax.Size == ulong.MaxValue ? null : DevBadblocks(ns.Region, dax.Resource, dax.Size, out bbCount, flags);
        else if (btt != null)
        {
            if (ns.Resource != ulong.MaxValue) DevBadblocks(ns.Region, ns.Resource, ns.Size, out bbCount, JsonFlags.None);
        }
        else
        {
            jbbs = RegionBadblocks(ns.Region, out bbCount, flags);
            if (jbbs == null) jbbs = NamespaceBadblocks(ns, out bbCount, flags);
        }
        if (bbCount > 0) j.Add("badblock_count", new JInt((long)bbCount));
        if (flags.HasFlag(JsonFlags.MediaErrors) && jbbs != null) j.Add("badblocks", jbbs);
        return j;
    }

    private static void RawUuid(NdNamespace ns, JsonFlags flags, JObject j)
    {
        if (flags.HasFlag(JsonFlags.Verbose) && ns.Uuid != NdNamespace.NullUuid) j.Add("raw_uuid", new JString(ns.Uuid));
    }

    /// <summary>util_badblock_rec_to_json: {block, count} as hex-capable numbers.</summary>
    public static JObject BadblockRec(ulong block, ulong count, JsonFlags flags) =>
        new JObject().Add("block", new JHex(block, flags.HasFlag(JsonFlags.Human))).Add("count", new JHex(count, flags.HasFlag(JsonFlags.Human)));

    /// <summary>util_display_json_array: a one-element array prints its element with -u; an empty one warns.</summary>
    public static void DisplayArray(NdctlIo io, JArray arr, JsonFlags flags)
    {
        if (arr.Items.Count > 1 || !flags.HasFlag(JsonFlags.Human))
        {
            if (arr.Items.Count == 0) io.Warning("no matching devices found\n");
            io.Out.Append(arr.ToPretty()).Append('\n');
        }
        else if (arr.Items.Count == 1) io.Out.Append(arr.Items[0].ToPretty()).Append('\n');
    }
}
