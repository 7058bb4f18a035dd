using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;
using KernelSim.Drivers.Pmem;
using KernelSim.Drivers.Virtiofs.Protocol;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Expectations;

/// <summary>
/// Expectations of the storage layers: output (a step's printed lines, e.g. ndctl's stdout), badblocks (the exact
/// /sys/block/pmemN/badblocks listing), fuse (FUSE requests on a virtio-fs share during the step) and host-file
/// (the size of a file on the virtio-fs host).
/// </summary>
internal static class LayerExpectations
{
    public static IEnumerable<IExpectation> Parse(string key, string file, YamlNode node, string what, ParseSymbols symbols) => key switch
    {
        "output" => Output(file, node, what),
        "json" => Json(file, node, what),
        "badblocks" => [Badblocks(file, node, what, symbols)],
        "fuse" => Fuse(file, node, what, symbols),
        "media" => [Media(file, node, what, symbols)],
        _ => [HostFile(file, node, what, symbols)],
    };

    private static IEnumerable<IExpectation> Output(string file, YamlNode node, string what)
    {
        if (node is YamlScalarNode { Value: "none" })
        {
            yield return new Expectation("output", node.Start, "no output", c =>
                c.Result.Notes.Count == 0 ? null : $"expected no output, actual {string.Join(" | ", c.Result.Notes)}");
            yield break;
        }
        foreach (var item in YamlValues.List(node))
        {
            var s = YamlValues.Scalar(file, item, what);
            yield return new Expectation("output", item.Start, $"output contains \"{s}\"", c =>
                c.Result.Notes.Any(l => l.Contains(s, StringComparison.Ordinal)) || c.Result.Text.Contains(s, StringComparison.Ordinal)
                    ? null
                    : $"expected the step's output to contain \"{s}\", actual {(c.Result.Notes.Count == 0 ? c.Result.Text : string.Join(" | ", c.Result.Notes))}");
        }
    }

    /// <summary>
    /// json: a map from a dotted path into the step's JSON standard output ("0.badblock_count", "health.health_state";
    /// a number indexes an array) to the value it must print (a string's text, a number or true/false as written).
    /// </summary>
    private static IEnumerable<IExpectation> Json(string file, YamlNode node, string what)
    {
        if (node is not YamlMappingNode map) throw new ScenarioException(file, node.Start, $"{what}: expected a map of JSON paths to values");
        foreach (var (k, v) in map.Children)
        {
            var path = YamlValues.Scalar(file, k, what);
            var want = YamlValues.Scalar(file, v, $"{what}.{path}");
            yield return new Expectation("json", k.Start, $"json {path} = {want}", c =>
            {
                if (c.Result.Stdout is not { Length: > 0 } text) return "the step printed no JSON";
                System.Text.Json.JsonElement e;
                try
                {
                    e = System.Text.Json.JsonDocument.Parse(text).RootElement;
                }
                catch (System.Text.Json.JsonException ex)
                {
                    return $"the step's output is not JSON: {ex.Message}";
                }
                foreach (var part in path.Split('.'))
                {
                    if (e.ValueKind == System.Text.Json.JsonValueKind.Array && int.TryParse(part, out var i) && i >= 0 && i < e.GetArrayLength()) e = e[i];
                    else if (e.ValueKind == System.Text.Json.JsonValueKind.Object && e.TryGetProperty(part, out var child)) e = child;
                    else return $"no {path} in the output (stopped at '{part}')";
                }
                var actual = e.ValueKind == System.Text.Json.JsonValueKind.String ? e.GetString()! : e.GetRawText();
                return actual == want ? null : $"expected {path} = {want}, actual {actual}";
            });
        }
    }

    private static IExpectation Badblocks(string file, YamlNode node, string what, ParseSymbols symbols)
    {
        var dev = "pmem0";
        var listNode = node;
        if (node is YamlMappingNode)
        {
            var m = YamlMap.Of(file, node, what, ScenarioKeys.Badblocks);
            if (m.Get("device") is { } dn) dev = YamlValues.Scalar(file, dn, $"{what}.device");
            listNode = m.Require("list");
            m.Done();
        }
        if (dev.StartsWith("/dev/", StringComparison.Ordinal)) dev = dev[5..];
        if (!symbols.PmemDisks.Contains(dev)) throw new ScenarioException(file, node.Start, $"{what}: '{dev}' is not a pmem disk of this machine (add machine.pmem)");
        var expected = new List<string>();
        if (listNode is not YamlScalarNode { Value: "none" or "" })
        {
            foreach (var item in YamlValues.List(listNode))
            {
                var s = YamlValues.Scalar(file, item, what).Trim();
                var parts = s.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (parts.Length != 2 || !long.TryParse(parts[0], out _) || !int.TryParse(parts[1], out _))
                    throw new ScenarioException(file, item.Start, $"{what}: '{s}' is not a badblocks entry (\"start length\", e.g. \"8 1\"), or none");
                expected.Add($"{parts[0]} {parts[1]}");
            }
        }
        var text = expected.Count == 0 ? "empty" : string.Join(", ", expected.Select(e => $"\"{e}\""));
        return new Expectation("badblocks", node.Start, $"/sys/block/{dev}/badblocks: {text}", c =>
        {
            if (Nvdimm.Find(c.Run.Machine, dev) is not { } pmem) return $"no pmem device {dev}";
            var actual = PmemSteps.Lines(pmem.Disk.BadblocksShow());
            if (actual.SequenceEqual(expected)) return null;
            return $"expected {text}, actual {(actual.Count == 0 ? "empty" : string.Join(", ", actual.Select(e => $"\"{e}\"")))}";
        });
    }

    private static IExpectation Media(string file, YamlNode node, string what, ParseSymbols symbols)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.Media);
        var dev = m.Str("device") ?? "pmem0";
        if (dev.StartsWith("/dev/", StringComparison.Ordinal)) dev = dev[5..];
        if (!symbols.PmemDisks.Contains(dev)) throw m.Error(m.Get("device") ?? node, $"{what}: '{dev}' is not a pmem disk of this machine (add machine.pmem)");
        var offset = m.Size("offset") ?? throw m.Error(m.Node, $"{what}: missing required key 'offset'");
        var len = m.Size("len") ?? throw m.Error(m.Node, $"{what}: missing required key 'len'");
        if (len == 0 || len > 1UL << 24) throw m.Error(m.Get("len")!, $"{what}.len: 1 .. 16M");
        byte[]? pattern = null;
        Model.AddrExpr? sameAs = null;
        string text;
        if (m.Get("byte") is { } bn)
        {
            var v = YamlValues.Size(file, bn, $"{what}.byte");
            if (v > 0xff) throw m.Error(bn, $"{what}.byte: 0 .. 0xff");
            pattern = Enumerable.Repeat((byte)v, (int)len).ToArray();
            text = $"all 0x{v:x2}";
        }
        else if (m.Get("same-as") is { } sn)
        {
            sameAs = StepParseContext.CheckAddr(file, symbols, sn, $"{what}.same-as", symbols.Actors.Count == 1 ? symbols.Actors[0] : null, user: true, kernel: true);
            text = $"the fill of {sameAs}";
        }
        else throw m.Error(m.Node, $"{what}: give byte or same-as");
        m.Done();
        return new Expectation("media", node.Start, $"/dev/{dev} media [{offset}, +{len}) is {text}", c =>
        {
            if (Nvdimm.Find(c.Run.Machine, dev) is not { } pmem) return $"no pmem device {dev}";
            var expected = pattern;
            if (sameAs != null)
            {
                var loc = c.Run.Resolve(sameAs, c.Actor, out var err);
                if (loc == null) return err;
                if (loc.Fill is not { } f) return $"same-as: {sameAs} has no fill pattern";
                expected = f.Bytes((ulong)loc.Offset, (int)len);
            }
            var actual = new byte[len];
            c.Run.Machine.Phys.PeekBytes(new KernelSim.Mm.PhysAddr(pmem.DataPhys(offset)), actual);
            for (var i = 0; i < actual.Length; i++)
                if (actual[i] != expected![i]) return $"byte {offset + (ulong)i} of /dev/{dev} is 0x{actual[i]:x2}, expected 0x{expected[i]:x2}";
            return null;
        });
    }

    private static string ShareOf(string file, YamlNode at, string what, ParseSymbols symbols, string? name)
    {
        if (name != null)
        {
            if (!symbols.Shares.Contains(name)) throw new ScenarioException(file, at.Start, $"{what}: no virtio-fs share '{name}'");
            return name;
        }
        if (symbols.Shares.Count == 1) return symbols.Shares[0];
        throw new ScenarioException(file, at.Start, symbols.Shares.Count == 0 ? $"{what}: the machine has no virtio-fs share" : $"{what}: which share? add share:");
    }

    private static IEnumerable<IExpectation> Fuse(string file, YamlNode node, string what, ParseSymbols symbols)
    {
        string? shareName = null;
        long? count = null;
        FuseOpcode? opcode = null;
        var texts = new List<YamlNode>();
        var none = node is YamlScalarNode { Value: "none" };
        if (node is YamlMappingNode)
        {
            var m = YamlMap.Of(file, node, what, ScenarioKeys.Fuse);
            shareName = m.Str("share");
            count = m.Long("count");
            if (m.Get("opcode") is { } on)
            {
                var s = YamlValues.Scalar(file, on, $"{what}.opcode");
                opcode = !char.IsAsciiDigit(s[0]) && (Enum.TryParse<FuseOpcode>(s, out var op) || Enum.TryParse("FUSE_" + s, out op)) ? op : throw m.Error(on, $"{what}.opcode: '{s}' is not a FUSE opcode (FUSE_SETUPMAPPING or SETUPMAPPING, REMOVEMAPPING, READ, WRITE, GETATTR, SETATTR, …)");
            }
            if (m.Get("contains") is { } cn) texts.AddRange(YamlValues.List(cn));
            m.Done();
            if (count == null && texts.Count == 0) throw m.Error(m.Node, $"{what}: give count (with opcode) or contains");
        }
        else if (!none)
        {
            texts.AddRange(YamlValues.List(node));
        }
        var share = ShareOf(file, node, what, symbols, shareName);
        if (none) count = 0;
        if (count != null)
        {
            var desc = $"{count} new {(opcode != null ? opcode + " " : "FUSE ")}request(s)";
            yield return new Expectation("fuse", node.Start, desc, c =>
            {
                var fresh = c.Run.NewFuse(share).Where(x => opcode == null || x.Opcode == opcode).ToList();
                return fresh.Count == count ? null : $"expected {desc}, actual {fresh.Count}{(fresh.Count > 0 ? ": " + string.Join(" | ", fresh) : "")}";
            });
        }
        foreach (var t in texts)
        {
            var s = YamlValues.Scalar(file, t, what);
            yield return new Expectation("fuse", t.Start, $"a FUSE request \"{s}\"", c =>
            {
                var fresh = c.Run.NewFuse(share).Where(x => opcode == null || x.Opcode == opcode).Select(x => x.ToString()).ToList();
                return fresh.Any(x => x.Contains(s, StringComparison.Ordinal)) ? null : $"expected a new FUSE request containing \"{s}\", actual {(fresh.Count == 0 ? "none" : string.Join(" | ", fresh))}";
            });
        }
    }

    private static IExpectation HostFile(string file, YamlNode node, string what, ParseSymbols symbols)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.HostFile);
        var share = ShareOf(file, node, what, symbols, m.Str("share"));
        var name = m.RequireStr("file");
        var size = m.Long("size") ?? throw m.Error(m.Node, $"{what}: missing required key 'size'");
        m.Done();
        return new Expectation("host-file", node.Start, $"host file {name}: size {size}", c =>
        {
            var hf = c.Run.Shares[share].Host[name];
            return hf == null ? $"the host has no file {name}" : hf.Size == size ? null : $"expected host size {size}, actual {hf.Size}";
        });
    }
}
