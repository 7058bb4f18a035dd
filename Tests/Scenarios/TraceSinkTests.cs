using System.Text.Json;
using KernelSim.Tests.Cli;
using KernelSim.Trace;

namespace KernelSim.Tests.Scenarios;

/// <summary>The Chrome trace-event JSON and the Mermaid sequence diagrams of scenario runs.</summary>
public class TraceSinkTests
{
    private static string Scenario(string name) => RepoFiles.Path($"scenarios/{name}.yaml");

    [TestCase("copyin-years", "kernel")]
    [TestCase("mce-copy", "kernel")]
    [TestCase("fault-in-livelock", "kernel")]
    [TestCase("user-sigbus", "kernel")]
    [TestCase("dax-bypass", "pmem")]
    [TestCase("virtiofs-truncate", "fuse")]
    [TestCase("clearing-poison", "nvdimm")]
    public void ChromeTrace_IsValidTraceEventJson_BalancedPerTrack(string name, string track)
    {
        var (code, output, err) = CliRun.Invoke("run", Scenario(name), "--trace", "chrome");
        Assert.That(code, Is.Zero, err);
        Assert.That(err, Does.Contain("passed, 0 failed"), "the report goes to stderr");
        using var doc = JsonDocument.Parse(output);
        var events = doc.RootElement.GetProperty("traceEvents");
        var threadNames = new Dictionary<(int, int), string>();
        var stacks = new Dictionary<(int, int), Stack<string>>();
        var lastTs = new Dictionary<(int, int), long>();
        int begins = 0, instants = 0;
        foreach (var e in events.EnumerateArray())
        {
            var ph = e.GetProperty("ph").GetString();
            var key = (e.GetProperty("pid").GetInt32(), e.GetProperty("tid").GetInt32());
            if (ph == "M")
            {
                if (e.GetProperty("name").GetString() == "thread_name") threadNames[key] = e.GetProperty("args").GetProperty("name").GetString()!;
                continue;
            }
            var ts = e.GetProperty("ts").GetInt64();
            Assert.That(ts, Is.GreaterThanOrEqualTo(lastTs.GetValueOrDefault(key)), "timestamps never go back on a track");
            lastTs[key] = ts;
            Assert.That(threadNames.ContainsKey(key), Is.True, $"track {key} has a thread_name");
            var stack = stacks.TryGetValue(key, out var s) ? s : stacks[key] = new Stack<string>();
            switch (ph)
            {
                case "B":
                    stack.Push(e.GetProperty("name").GetString()!);
                    begins++;
                    break;
                case "E":
                    Assert.That(stack, Is.Not.Empty, $"E without B on {threadNames[key]}");
                    Assert.That(e.GetProperty("name").GetString(), Is.EqualTo(stack.Pop()), "E closes the innermost B");
                    break;
                case "i":
                    Assert.That(e.GetProperty("s").GetString(), Is.EqualTo("t"));
                    instants++;
                    break;
                default:
                    Assert.Fail($"unexpected phase {ph}");
                    break;
            }
        }
        Assert.That(stacks.Values.All(s => s.Count == 0), Is.True, "every track's B/E nest and balance");
        Assert.That(begins, Is.GreaterThan(0));
        Assert.That(instants, Is.GreaterThan(0));
        Assert.That(threadNames.Values, Does.Contain("syscall").And.Contain(track));
    }

    /// <summary>
    /// Walkthrough 1's trace: the DAX read of 6.12 nests fs/dax.c inside the system call and copy_mc_to_user inside
    /// dax_iomap_rw (the driver only hands out the address: __pmem_direct_access closes before the copy), while the
    /// /dev/pmem0 read nests pmem_do_read inside submit_bio; on 4.17 the DAX read's frames stay open at the panic.
    /// </summary>
    [Test]
    public void ChromeTrace_DaxBypass_NestsTheCopyInsideFsDax_NotInsideTheDriver()
    {
        var (code, output, err) = CliRun.Invoke("run", Scenario("dax-bypass"), "--trace", "chrome");
        Assert.That(code, Is.Zero, err);
        using var doc = JsonDocument.Parse(output);
        var events = doc.RootElement.GetProperty("traceEvents").EnumerateArray().ToList();
        var processes = events.Where(e => e.GetProperty("name").GetString() == "process_name")
            .ToDictionary(e => e.GetProperty("args").GetProperty("name").GetString()!, e => e.GetProperty("pid").GetInt32());
        Assert.That(processes.Keys, Is.EqualTo(new[] { "dax-bypass-4.17 (Linux 4.17)", "dax-bypass-6.12 (Linux 6.12)" }));

        // Per process: every B with the names of the frames open at that moment (all tracks of one CPU share the stack).
        List<(string Name, string[] Open)> Begins(int pid)
        {
            var list = new List<(string, string[])>();
            var open = new List<(int Tid, string Name)>();
            foreach (var e in events.Where(e => e.GetProperty("pid").GetInt32() == pid && e.GetProperty("ph").GetString() is "B" or "E").OrderBy(e => e.GetProperty("ts").GetInt64()))
            {
                var name = e.GetProperty("name").GetString()!;
                if (e.GetProperty("ph").GetString() == "B")
                {
                    list.Add((name, open.Select(o => o.Name).ToArray()));
                    open.Add((e.GetProperty("tid").GetInt32(), name));
                }
                else
                {
                    var i = open.FindLastIndex(o => o.Name == name);
                    Assert.That(i, Is.EqualTo(open.Count - 1), $"E {name} closes the innermost open frame");
                    open.RemoveAt(i);
                }
            }
            return list;
        }

        var now = Begins(processes["dax-bypass-6.12 (Linux 6.12)"]);
        var copy = now.First(b => b.Name == "copy_mc_to_user");
        Assert.That(copy.Open, Is.EqualTo(new[] { "sys_pread64", "vfs_read", "daxfs_dax_read_iter", "dax_iomap_rw", "dax_iomap_iter", "_copy_mc_to_iter", "copy_to_user_iter_mc" }));
        var direct = now.First(b => b.Name == "__pmem_direct_access");
        Assert.That(direct.Open, Does.Contain("dax_iomap_iter").And.Not.Contain("submit_bio"));
        var bdev = now.First(b => b.Name == "pmem_do_read");
        Assert.That(bdev.Open, Does.Contain("blkdev_direct_IO").And.Contain("submit_bio").And.Contain("pmem_submit_bio"));

        var old = Begins(processes["dax-bypass-4.17 (Linux 4.17)"]);
        var plain = old.Last(b => b.Name == "copy_user_generic");
        Assert.That(plain.Open, Does.Contain("dax_iomap_rw").And.Contain("_copy_to_iter"));
        Assert.That(old.Any(b => b.Name == "copy_mc_to_user"), Is.False, "4.17 has no machine-check-safe DAX copy");
    }

    [Test]
    public void ChromeTrace_OneProcessPerScenario()
    {
        var (_, output, _) = CliRun.Invoke("run", Scenario("copyin-years"), "--trace", "chrome");
        using var doc = JsonDocument.Parse(output);
        var names = doc.RootElement.GetProperty("traceEvents").EnumerateArray()
            .Where(e => e.GetProperty("name").GetString() == "process_name")
            .Select(e => (e.GetProperty("pid").GetInt32(), e.GetProperty("args").GetProperty("name").GetString()))
            .ToList();
        Assert.That(names, Is.EqualTo(new[]
        {
            (1, "copyin-4.17 (Linux 4.17)"), (2, "copyin-5.10 (Linux 5.10)"), (3, "copyin-5.15 (Linux 5.15)"), (4, "copyin-6.12 (Linux 6.12)"),
        }));
    }

    [Test]
    public void ChromeTrace_UnmatchedExitAndOpenFrames_StayBalanced()
    {
        TraceRecord[] records =
        [
            new(0, TraceKind.Exit, 0, "orphan", "x86", null),
            new(1, TraceKind.Enter, 0, "sys_write", "syscall", null),
            new(2, TraceKind.Enter, 1, "copy", "x86", null),
            new(3, TraceKind.Event, 2, "mce", "x86", "a \"quoted\" text"),
        ];
        using var doc = JsonDocument.Parse(ChromeTrace.Render(records));
        var phases = doc.RootElement.GetProperty("traceEvents").EnumerateArray().Select(e => e.GetProperty("ph").GetString()).Where(p => p != "M").ToList();
        Assert.That(phases, Is.EqualTo(new[] { "B", "B", "i", "E", "E" }));
    }

    [Test]
    public void Mermaid_OneParticipantPerLayer_ArrowsBetweenDeclaredParticipants()
    {
        var (code, output, _) = CliRun.Invoke("run", Scenario("mce-copy"), "--trace", "mermaid");
        Assert.That(code, Is.Zero);
        var start = output.IndexOf("```mermaid\n", StringComparison.Ordinal);
        Assert.That(start, Is.GreaterThanOrEqualTo(0));
        var body = output[(start + 11)..output.IndexOf("```\n", start + 11, StringComparison.Ordinal)];
        var lines = body.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.That(lines[0], Is.EqualTo("sequenceDiagram"));
        var participants = lines.Where(l => l.StartsWith("    participant ", StringComparison.Ordinal)).Select(l => l[16..]).ToList();
        Assert.That(participants[0], Is.EqualTo("user"));
        Assert.That(participants, Is.Unique);
        Assert.That(participants, Does.Contain("x86").And.Contain("syscall"));
        foreach (var l in lines.Skip(1 + participants.Count))
        {
            var t = l.Trim();
            if (t.StartsWith("Note over ", StringComparison.Ordinal))
            {
                Assert.That(participants, Does.Contain(t[10..t.IndexOf(':')]), t);
                continue;
            }
            var arrow = t.Contains("-->>", StringComparison.Ordinal) ? "-->>" : "->>";
            var from = t[..t.IndexOf(arrow, StringComparison.Ordinal)];
            var to = t[(t.IndexOf(arrow, StringComparison.Ordinal) + arrow.Length)..t.IndexOf(':')];
            Assert.That(participants, Does.Contain(from).And.Contain(to), t);
            Assert.That(from, Is.Not.EqualTo(to), "calls inside a layer are folded");
            Assert.That(t[(t.IndexOf(':') + 1)..], Does.Not.Contain(";").Or.Contain("#59;"));
        }
    }

    [Test]
    public void Mermaid_EscapesSemicolonsAndHashes()
    {
        TraceRecord[] records = [new(0, TraceKind.Event, 0, "printk", "kernel", "a; b #1 <x>")];
        Assert.That(MermaidSequence.Render(records), Is.EqualTo("sequenceDiagram\n    participant user\n    participant kernel\n    Note over kernel: printk: a#59; b #35;1 #lt;x#gt;\n"));
    }
}
