using System.Globalization;
using KernelSim.Arch.X86;
using KernelSim.Scenarios.Model;
using KernelSim.Scenarios.Runtime;
using KernelSim.Scenarios.Steps;
using KernelSim.Scenarios.Yaml;
using KernelSim.Kernel;
using KernelSim.Mm;
using KernelSim.Trace;
using KernelSim.Uapi;
using YamlDotNet.RepresentationModel;

namespace KernelSim.Scenarios.Expectations;

/// <summary>
/// Parses a step's expect: mapping. Keys: ret, errno, outcome, signal, signals, memory, file, page, machine,
/// panic, process, processes, mce, dmesg, trace, output, json, badblocks, media, fuse, host-file, text, fields, pagemap, kpageflags.
/// </summary>
internal static class ExpectationParser
{
    /// <summary>Every key expect: accepts, in documentation order.</summary>
    public static readonly string[] Keys = ["ret", "errno", "outcome", "signal", "signals", "memory", "file", "page", "machine", "panic", "process", "processes", "mce", "dmesg", "trace", "output", "json", "badblocks", "media", "fuse", "host-file", "text", "fields", "pagemap", "kpageflags"];

    public static List<IExpectation> Parse(YamlMap expect, ParseSymbols symbols, string? actor)
    {
        var list = new List<IExpectation>();
        foreach (var k in Keys) expect.Know(k);
        foreach (var key in expect.Keys)
        {
            if (Array.IndexOf(Keys, key) < 0) continue;
            var node = expect.Get(key)!;
            var what = $"expect.{key}";
            var file = expect.File;
            switch (key)
            {
                case "ret": list.Add(Ret(file, node, what)); break;
                case "errno":
                    {
                        var s = YamlValues.Scalar(file, node, what);
                        if (!YamlValues.TryErrno(s, out var e)) throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not an errno name (EFAULT, EIO, …)");
                        list.Add(RetEquals(key, node, -e, $"-{s.TrimStart('-')}"));
                        break;
                    }
                case "outcome": list.Add(Outcome(file, node, what)); break;
                case "signal": list.Add(Signal(file, symbols, node, what, actor)); break;
                case "signals":
                    {
                        var m = YamlMap.Of(file, node, what);
                        foreach (var a in symbols.Actors) m.Know(a);
                        foreach (var a in m.Keys)
                        {
                            if (!symbols.Actors.Contains(a)) continue;
                            list.Add(SignalList(file, symbols, m.Get(a)!, $"{what}.{a}", a));
                        }
                        m.Done();
                        break;
                    }
                case "memory":
                    {
                        var items = YamlValues.List(node);
                        for (var i = 0; i < items.Count; i++) list.Add(Memory(file, symbols, items[i], items.Count == 1 ? what : $"{what}[{i}]", actor));
                        break;
                    }
                case "file":
                    {
                        var items = YamlValues.List(node);
                        for (var i = 0; i < items.Count; i++) list.Add(FileCheck(file, symbols, items[i], items.Count == 1 ? what : $"{what}[{i}]", actor));
                        break;
                    }
                case "page":
                    {
                        var items = YamlValues.List(node);
                        for (var i = 0; i < items.Count; i++) list.Add(Page(file, symbols, items[i], items.Count == 1 ? what : $"{what}[{i}]", actor));
                        break;
                    }
                case "machine": list.Add(Machine(file, node, what)); break;
                case "panic":
                    {
                        var s = YamlValues.Scalar(file, node, what);
                        list.Add(new Expectation(key, node.Start, $"panic message contains \"{s}\"", c =>
                        {
                            var msg = c.Run.Machine.State.PanicMessage;
                            return msg != null && msg.Contains(s, StringComparison.Ordinal) ? null : $"expected a panic message containing \"{s}\", actual {(msg == null ? "no panic" : $"\"{msg}\"")}";
                        }));
                        break;
                    }
                case "process":
                    if (actor == null) throw new ScenarioException(file, node.Start, $"{what}: this step has no actor; use processes: {{name: state}}");
                    list.Add(Process(file, node, what, actor));
                    break;
                case "processes":
                    {
                        var m = YamlMap.Of(file, node, what);
                        foreach (var a in symbols.Actors) m.Know(a);
                        foreach (var a in m.Keys)
                            if (symbols.Actors.Contains(a)) list.Add(Process(file, m.Get(a)!, $"{what}.{a}", a));
                        m.Done();
                        break;
                    }
                case "mce": list.Add(Mce(YamlMap.Of(file, node, what, ScenarioKeys.Mce))); break;
                case "dmesg":
                    foreach (var item in YamlValues.List(node))
                    {
                        var s = YamlValues.Scalar(file, item, what);
                        list.Add(new Expectation(key, item.Start, $"dmesg contains \"{s}\"", c =>
                        {
                            foreach (var l in c.NewDmesg) if (l.Contains(s, StringComparison.Ordinal)) return null;
                            var lines = c.NewDmesg.ToList();
                            return $"expected a new dmesg line containing \"{s}\", actual {(lines.Count == 0 ? "none" : string.Join(" | ", lines))}";
                        }));
                    }
                    break;
                case "output" or "json" or "badblocks" or "media" or "fuse" or "host-file":
                    list.AddRange(LayerExpectations.Parse(key, file, node, what, symbols));
                    break;
                case "text" or "fields" or "pagemap" or "kpageflags":
                    list.AddRange(FileExpectations.Parse(key, file, node, what, symbols));
                    break;
                case "trace":
                    foreach (var item in YamlValues.List(node))
                    {
                        var s = YamlValues.Scalar(file, item, what);
                        list.Add(new Expectation(key, item.Start, $"trace contains \"{s}\"", c =>
                            FunctionGraphText.Render(c.TraceRecords).Contains(s, StringComparison.Ordinal) ? null : $"expected the step's trace to contain \"{s}\", it does not"));
                    }
                    break;
            }
        }
        expect.Done();
        return list;
    }

    // ---- ret / outcome -------------------------------------------------------------------------------

    private static IExpectation Ret(string file, YamlNode node, string what)
    {
        var s = YamlValues.Scalar(file, node, what);
        if (s == "noreturn")
            return new Expectation("ret", node.Start, "no return", c => c.Result.Ret == null ? null : $"expected no return, actual {Errno.Describe(c.Result.Ret.Value)}");
        if (YamlValues.TryParseLong(s, out var v)) return RetEquals("ret", node, v, s);
        if (YamlValues.TryErrno(s, out var e)) return RetEquals("ret", node, -e, $"-{s.TrimStart('-')}");
        throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not a number, an errno name (-EFAULT) or noreturn");
    }

    private static IExpectation RetEquals(string key, YamlNode node, long v, string text) =>
        new Expectation(key, node.Start, $"ret = {text}", c =>
        {
            var r = c.Result;
            if (r.Ret == v && r.Outcome == null) return null;
            return $"expected {Errno.Describe(v)}, actual {(r.Outcome != null ? r.Text : Errno.Describe(r.Ret!.Value))}";
        });

    private static IExpectation Outcome(string file, YamlNode node, string what)
    {
        var s = YamlValues.Scalar(file, node, what);
        if (s == "returned")
            return new Expectation("outcome", node.Start, "returned", c => c.Result.Outcome == null ? null : $"expected the call to return, actual {c.Result.Outcome}");
        return new Expectation("outcome", node.Start, $"outcome contains \"{s}\"", c =>
            c.Result.Outcome?.Contains(s, StringComparison.Ordinal) == true ? null : $"expected an outcome containing \"{s}\", actual {c.Result.Outcome ?? "returned " + c.Result.Text}");
    }

    // ---- signals -------------------------------------------------------------------------------------

    private sealed record SignalSpec(int? Signo, int? Code, AddrExpr? Addr, short? Lsb, string Text);

    private static SignalSpec ParseSignal(string file, ParseSymbols symbols, YamlNode node, string what, string actor)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.Signal);
        int? signo = null, code = null;
        short? lsb = null;
        AddrExpr? addr = null;
        var parts = new List<string>();
        if (m.Get("signo") is { } sn)
        {
            var s = YamlValues.Scalar(file, sn, $"{what}.signo");
            if (!YamlValues.TrySignal(s, out var v)) throw m.Error(sn, $"{what}.signo: '{s}' is not a signal (SIGBUS, SIGSEGV, SIGKILL)");
            signo = v;
            parts.Add(s);
        }
        if (m.Get("code") is { } cn)
        {
            var s = YamlValues.Scalar(file, cn, $"{what}.code");
            if (!YamlValues.TrySiCode(signo ?? Sig.SIGBUS, s, out var v) && !YamlValues.TrySiCode(Sig.SIGSEGV, s, out v))
                throw m.Error(cn, $"{what}.code: '{s}' is not an si_code (BUS_MCEERR_AR, BUS_MCEERR_AO, BUS_ADRERR, SEGV_MAPERR, SEGV_ACCERR, SI_KERNEL)");
            code = v;
            parts.Add(s);
        }
        if (m.Get("addr") is { } an)
        {
            addr = StepParseContext.CheckAddr(file, symbols, an, $"{what}.addr", actor, user: true, kernel: false);
            parts.Add($"si_addr={addr}");
        }
        if (m.Get("lsb") is { } ln)
        {
            lsb = (short)YamlValues.Long(file, ln, $"{what}.lsb");
            parts.Add($"si_addr_lsb={lsb}");
        }
        m.Done();
        return new SignalSpec(signo, code, addr, lsb, string.Join(" ", parts));
    }

    private static string? Mismatch(ExpectationContext c, string actor, SignalSpec e, SigInfo a)
    {
        var bad = new List<string>();
        if (e.Signo is { } s && s != a.Signo) bad.Add("signo");
        if (e.Code is { } code && code != a.Code) bad.Add("si_code");
        if (e.Lsb is { } l && l != a.AddrLsb) bad.Add("si_addr_lsb");
        if (e.Addr is { } ae)
        {
            var loc = c.Run.Resolve(ae, actor, out var err);
            if (loc == null) return err;
            if (loc.Addr != a.Addr) bad.Add($"si_addr (expected {ae} = 0x{loc.Addr:x})");
        }
        return bad.Count == 0 ? null : string.Join(", ", bad);
    }

    private static string Show(ExpectationContext c, string actor, SigInfo s) =>
        $"{Sig.Name(s.Signo)} {Sig.CodeName(s.Signo, s.Code)} si_addr={c.Run.Symbolize(c.Run.Actor(actor), s.Addr)} si_addr_lsb={s.AddrLsb}";

    private static IExpectation Signal(string file, ParseSymbols symbols, YamlNode node, string what, string? actor)
    {
        if (actor == null) throw new ScenarioException(file, node.Start, $"{what}: this step has no actor; use signals: {{name: [...]}}");
        if (node is YamlScalarNode { Value: "none" })
            return new Expectation("signal", node.Start, "no signal", c =>
            {
                var got = c.NewSignals(actor);
                return got.Count == 0 ? null : $"expected no signal, actual {string.Join(", ", got.Select(s => Show(c, actor, s)))}";
            });
        var spec = ParseSignal(file, symbols, node, what, actor);
        return new Expectation("signal", node.Start, $"signal {spec.Text}", c =>
        {
            var got = c.NewSignals(actor);
            if (got.Count != 1) return $"expected exactly one signal {spec.Text}, actual {(got.Count == 0 ? "none" : string.Join(", ", got.Select(s => Show(c, actor, s))))}";
            var bad = Mismatch(c, actor, spec, got[0]);
            return bad == null ? null : $"expected {spec.Text}, actual {Show(c, actor, got[0])} (differs in {bad})";
        });
    }

    private static IExpectation SignalList(string file, ParseSymbols symbols, YamlNode node, string what, string actor)
    {
        var specs = new List<SignalSpec>();
        if (node is not YamlScalarNode { Value: "none" })
            foreach (var item in YamlValues.List(node)) specs.Add(ParseSignal(file, symbols, item, $"{what}[{specs.Count}]", actor));
        var text = specs.Count == 0 ? "none" : string.Join("; ", specs.Select(s => s.Text));
        return new Expectation($"signals.{actor}", node.Start, $"{actor} gets {text}", c =>
        {
            var got = c.NewSignals(actor);
            var actual = got.Count == 0 ? "none" : string.Join("; ", got.Select(s => Show(c, actor, s)));
            if (got.Count != specs.Count) return $"expected {actor} to get {text}, actual {actual}";
            for (var i = 0; i < got.Count; i++)
                if (Mismatch(c, actor, specs[i], got[i]) is { } bad) return $"expected {actor} to get {text}, actual {actual} (signal {i + 1} differs in {bad})";
            return null;
        });
    }

    // ---- memory / file / page ------------------------------------------------------------------------

    private enum ContentKind { SameAs, Untouched, Byte, Bytes, Unmapped }

    private sealed record ContentSpec(ContentKind Kind, AddrExpr? SameAs, byte Byte, byte[]? Bytes, string Text);

    private static ContentSpec Content(YamlMap m, ParseSymbols symbols, string? actor, bool allowUntouched)
    {
        var found = new List<ContentSpec>();
        if (m.Get("same-as") is { } sa)
        {
            var e = StepParseContext.CheckAddr(m.File, symbols, sa, $"{m.What}.same-as", actor, user: true, kernel: true);
            found.Add(new ContentSpec(ContentKind.SameAs, e, 0, null, $"the fill of {e}"));
        }
        if (allowUntouched && m.Get("untouched") is { } un)
        {
            if (!YamlValues.Bool(m.File, un, $"{m.What}.untouched")) throw m.Error(un, $"{m.What}.untouched: only 'true' makes sense");
            found.Add(new ContentSpec(ContentKind.Untouched, null, 0, null, "untouched (its own fill)"));
        }
        if (m.Get("byte") is { } bn)
        {
            var v = YamlValues.Size(m.File, bn, $"{m.What}.byte");
            if (v > 0xff) throw m.Error(bn, $"{m.What}.byte: must be 0 .. 0xff");
            found.Add(new ContentSpec(ContentKind.Byte, null, (byte)v, null, $"all 0x{v:x2}"));
        }
        if (m.Get("bytes") is { } hn)
        {
            var s = YamlValues.Scalar(m.File, hn, $"{m.What}.bytes").Replace(" ", "", StringComparison.Ordinal);
            byte[] b;
            try { b = Convert.FromHexString(s); }
            catch (FormatException) { throw m.Error(hn, $"{m.What}.bytes: not hex bytes (\"01 02 ff\")"); }
            found.Add(new ContentSpec(ContentKind.Bytes, null, 0, b, $"bytes {Convert.ToHexString(b).ToLowerInvariant()}"));
        }
        if (allowUntouched && m.Get("unmapped") is { } um)
        {
            if (!YamlValues.Bool(m.File, um, $"{m.What}.unmapped")) throw m.Error(um, $"{m.What}.unmapped: only 'true' makes sense");
            found.Add(new ContentSpec(ContentKind.Unmapped, null, 0, null, "unmapped"));
        }
        if (found.Count != 1) throw m.Error(m.Node, $"{m.What}: give exactly one of same-as, {(allowUntouched ? "untouched, unmapped, " : "")}byte, bytes");
        return found[0];
    }

    /// <summary>The expected bytes of a content check, or an error.</summary>
    private static byte[]? Expected(ExpectationContext c, ContentSpec spec, Location? own, string? actor, int len, out string? error)
    {
        error = null;
        switch (spec.Kind)
        {
            case ContentKind.Byte:
                return Enumerable.Repeat(spec.Byte, len).ToArray();
            case ContentKind.Bytes:
                if (spec.Bytes!.Length != len) error = $"bytes: gives {spec.Bytes.Length} bytes for a length of {len}";
                return spec.Bytes;
            case ContentKind.Untouched:
                if (own?.Fill is not { } f) { error = "untouched: the buffer has no fill pattern"; return null; }
                return f.Bytes((ulong)own.Offset, len);
            case ContentKind.SameAs:
                var loc = c.Run.Resolve(spec.SameAs!, actor, out error);
                if (loc == null) return null;
                if (loc.Fill is not { } g) { error = $"same-as: {spec.SameAs} has no fill pattern"; return null; }
                return g.Bytes((ulong)loc.Offset, len);
            default:
                return null;
        }
    }

    private static string? Compare(byte?[] actual, byte[] expected, Func<int, string> where)
    {
        var diff = 0;
        var first = -1;
        for (var i = 0; i < expected.Length; i++)
        {
            if (actual[i] == expected[i]) continue;
            if (first < 0) first = i;
            diff++;
        }
        if (diff == 0) return null;
        var a = actual[first] is { } v ? $"0x{v:x2}" : "unmapped";
        return $"{diff} of {expected.Length} byte(s) differ; first at {where(first)}: expected 0x{expected[first]:x2}, actual {a}";
    }

    private static IExpectation Memory(string file, ParseSymbols symbols, YamlNode node, string what, string? actor)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.Memory);
        var at = StepParseContext.CheckAddr(file, symbols, m.Require("at"), $"{what}.at", actor, user: true, kernel: true);
        var len = m.Size("len") ?? throw m.Error(m.Node, $"{what}: missing required key 'len'");
        if (len == 0 || len > 1UL << 24) throw m.Error(m.Get("len")!, $"{what}.len: must be 1 .. 16M");
        var spec = Content(m, symbols, actor, allowUntouched: true);
        m.Done();
        return new Expectation(what.Replace("expect.", "", StringComparison.Ordinal), node.Start, $"memory [{at}, +{len}) is {spec.Text}", c =>
        {
            var loc = c.Run.Resolve(at, actor, out var err);
            if (loc == null) return err;
            var n = (int)len;
            byte?[] actual;
            if (loc.Kernel)
            {
                var pa = c.Run.Machine.KernelMap.Pa(loc.KernelPtr);
                if (pa == null) return $"{at} is not in the direct map";
                var b = new byte[n];
                c.Run.Machine.Phys.PeekBytes(pa.Value, b);
                actual = b.Select(x => (byte?)x).ToArray();
            }
            else
            {
                actual = loc.Actor!.Process.Peek(loc.UserPtr, n);
            }
            if (spec.Kind == ContentKind.Unmapped)
            {
                var mapped = Array.FindIndex(actual, x => x != null);
                return mapped < 0 ? null : $"expected [{at}, +{len}) unmapped, byte {mapped} is mapped";
            }
            var expected = Expected(c, spec, loc, actor, n, out err);
            if (expected == null || err != null) return err;
            var name = at.Name;
            return Compare(actual, expected, i => name != null ? AddrExpr.Format(name, at.Offset + i) : $"0x{loc.Addr + (ulong)i:x}");
        });
    }

    private static IExpectation FileCheck(string file, ParseSymbols symbols, YamlNode node, string what, string? actor)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.File);
        var path = m.RequireStr("path");
        var size = m.Long("size");
        var offset = m.Long("offset") ?? 0;
        var len = m.Long("len");
        if (offset < 0 || len is < 0) throw m.Error(m.Node, $"{what}: offset and len must not be negative");
        ContentSpec? spec = null;
        if (m.Has("same-as") || m.Has("byte") || m.Has("bytes")) spec = Content(m, symbols, actor, allowUntouched: false);
        m.Done();
        var parts = new List<string>();
        if (size != null) parts.Add($"size {size}");
        if (spec != null) parts.Add(len != null || offset != 0 ? $"[{offset}, +{(len != null ? len.ToString() : "end")}) is {spec.Text}" : $"data {spec.Text}");
        return new Expectation(what.Replace("expect.", "", StringComparison.Ordinal), node.Start, $"file {path}: {string.Join(", ", parts)}", c =>
        {
            if (FileSteps.RamFsOf(c.Run, path, out var rest) is not { } fs) return $"{path}: no ramfs mounted there";
            var inode = fs.Lookup(rest);
            if (inode == null) return $"expected file {path} to exist, it does not";
            if (size != null && inode.Size != size) return $"expected {path} size {size}, actual {inode.Size}";
            if (spec == null) return null;
            var data = fs.ReadData(rest);
            var n = len ?? data.Length - offset;
            if (offset + n > data.Length) return $"expected {path} to hold [{offset}, {offset + n}), its size is {data.Length}";
            var expected = Expected(c, spec, null, actor, (int)n, out var err);
            if (expected == null || err != null) return err;
            return Compare(data.Skip((int)offset).Take((int)n).Select(x => (byte?)x).ToArray(), expected, i => $"file offset {offset + i}");
        });
    }

    private static IExpectation Page(string file, ParseSymbols symbols, YamlNode node, string what, string? actor)
    {
        var m = YamlMap.Of(file, node, what, ScenarioKeys.Page);
        var at = StepParseContext.CheckAddr(file, symbols, m.Require("at"), $"{what}.at", actor, user: true, kernel: false);
        var entry = m.Bool("hwpoison-entry");
        var resident = m.Bool("resident");
        var pg = m.Bool("pg-hwpoison");
        m.Done();
        var parts = new List<string>();
        if (entry != null) parts.Add($"hwpoison-entry {entry.Value.ToString().ToLowerInvariant()}");
        if (resident != null) parts.Add($"resident {resident.Value.ToString().ToLowerInvariant()}");
        if (pg != null) parts.Add($"pg-hwpoison {pg.Value.ToString().ToLowerInvariant()}");
        return new Expectation(what.Replace("expect.", "", StringComparison.Ordinal), node.Start, $"page at {at}: {string.Join(", ", parts)}", c =>
        {
            var loc = c.Run.Resolve(at, actor, out var err);
            if (loc == null) return err;
            var mm = loc.Actor!.Process.Mm;
            var bad = new List<string>();
            var isEntry = mm.IsHwPoisonEntry(loc.Addr);
            var pfn = mm.PfnAt(loc.Addr) ?? mm.HwPoisonPfn(loc.Addr);
            var isPg = pfn != null && c.Run.Machine.Phys.Peek(pfn.Value)?.IsHwPoison == true;
            if (entry != null && entry != isEntry) bad.Add($"hwpoison-entry is {isEntry.ToString().ToLowerInvariant()}");
            if (resident != null && resident != (mm.PfnAt(loc.Addr) != null)) bad.Add($"resident is {(!resident.Value).ToString().ToLowerInvariant()}");
            if (pg != null && pg != isPg) bad.Add($"pg-hwpoison is {isPg.ToString().ToLowerInvariant()}");
            return bad.Count == 0 ? null : $"expected {string.Join(", ", parts)}, actual {string.Join(", ", bad)}";
        });
    }

    // ---- machine / process / mce ---------------------------------------------------------------------

    private static IExpectation Machine(string file, YamlNode node, string what)
    {
        var s = YamlValues.Scalar(file, node, what);
        MachineStatus status = s switch
        {
            "running" => MachineStatus.Running,
            "panicked" => MachineStatus.Panicked,
            "shutdown" => MachineStatus.Shutdown,
            "stopped" => MachineStatus.VmStopped,
            _ => throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not running, panicked, shutdown or stopped"),
        };
        return new Expectation("machine", node.Start, $"machine {s}", c =>
        {
            var st = c.Run.Machine.State;
            return st.Status == status ? null : $"expected machine {s}, actual {StatusName(st.Status)}{(st.PanicMessage != null ? $" ({st.PanicMessage})" : "")}";
        });
    }

    public static string StatusName(MachineStatus s) => s switch
    {
        MachineStatus.Running => "running",
        MachineStatus.Panicked => "panicked",
        MachineStatus.Shutdown => "shutdown",
        _ => "stopped",
    };

    private static IExpectation Process(string file, YamlNode node, string what, string actor)
    {
        var s = YamlValues.Scalar(file, node, what);
        var parts = s.Split(' ', StringSplitOptions.RemoveEmptyEntries);
        ProcessState state = parts[0] switch
        {
            "running" => ProcessState.Running,
            "killed" => ProcessState.Killed,
            "livelocked" => ProcessState.Livelocked,
            "oopsed" => ProcessState.Oopsed,
            "exited" => ProcessState.Exited,
            _ => throw new ScenarioException(file, node.Start, $"{what}: '{s}' is not running, killed, killed by SIGNAL, livelocked, oopsed or exited"),
        };
        int? by = null;
        if (parts.Length > 1)
        {
            if (state != ProcessState.Killed || parts.Length != 3 || parts[1] != "by" || !YamlValues.TrySignal(parts[2], out var signo))
                throw new ScenarioException(file, node.Start, $"{what}: '{s}': expected 'killed by SIGBUS' (or SIGSEGV, SIGKILL)");
            by = signo;
        }
        return new Expectation($"process.{actor}", node.Start, $"{actor} {s}", c =>
        {
            var p = c.Run.Actor(actor).Process;
            var actual = ProcessText(p);
            var ok = p.State == state && (by == null || p.KilledBy?.Signo == by);
            return ok ? null : $"expected {actor} {s}, actual {actual}";
        });
    }

    public static string ProcessText(Process p) => p.State switch
    {
        ProcessState.Running => "running",
        ProcessState.Killed => $"killed by {(p.KilledBy is { } k ? Sig.Name(k.Signo) : "?")}",
        ProcessState.Livelocked => "livelocked",
        ProcessState.Exited => "exited",
        _ => "oopsed",
    };

    private static IExpectation Mce(YamlMap m)
    {
        var count = m.Long("count");
        var total = m.Long("total");
        McContext? ctx = null;
        MceSeverity? sev = null;
        if (m.Get("context") is { } cn)
        {
            var s = YamlValues.Scalar(m.File, cn, $"{m.What}.context");
            ctx = Enum.TryParse<McContext>(s, out var v) && Enum.IsDefined(v) && !char.IsAsciiDigit(s[0]) ? v : throw m.Error(cn, $"{m.What}.context: '{s}' is not IN_USER, IN_KERNEL or IN_KERNEL_RECOV");
        }
        if (m.Get("severity") is { } sn)
        {
            var s = YamlValues.Scalar(m.File, sn, $"{m.What}.severity");
            sev = MceSeverityNames.TryParse(s, out var v) ? v : throw m.Error(sn, $"{m.What}.severity: '{s}' is not AR or PANIC");
        }
        m.Done();
        var parts = new List<string>();
        if (count != null) parts.Add($"{count} new");
        if (total != null) parts.Add($"{total} in all");
        if (ctx != null) parts.Add($"context {ctx}");
        if (sev != null) parts.Add($"severity {sev.Value.Short()}");
        return new Expectation("mce", m.Start, $"machine checks: {string.Join(", ", parts)}", c =>
        {
            var log = c.Run.Machine.Mce.Log;
            var fresh = log.Skip(c.MceBefore).ToList();
            var bad = new List<string>();
            if (count != null && fresh.Count != count) bad.Add($"{fresh.Count} new");
            if (total != null && log.Count != total) bad.Add($"{log.Count} in all");
            if (ctx != null && (fresh.Count == 0 || fresh.Any(r => r.Context != ctx)))
                bad.Add(fresh.Count == 0 ? "no new machine check" : $"contexts {string.Join(", ", fresh.Select(r => r.Context))}");
            if (sev != null && (fresh.Count == 0 || fresh.Any(r => r.Severity != sev)))
                bad.Add(fresh.Count == 0 ? "no new machine check" : $"severities {string.Join(", ", fresh.Select(r => r.Severity.Short()))}");
            return bad.Count == 0 ? null : $"expected {string.Join(", ", parts)}, actual {string.Join(", ", bad.Distinct())}";
        });
    }

    /// <summary>For messages: invariant formatting.</summary>
    public static string Num(long v) => v.ToString(CultureInfo.InvariantCulture);
}
