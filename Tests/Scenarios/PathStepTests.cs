using KernelSim.Scenarios;
using KernelSim.Scenarios.Runtime;
using KernelSim.Tests.Cli;

namespace KernelSim.Tests.Scenarios;

/// <summary>
/// The file-by-path and page-state steps (read-file, write-file, list-dir, readlink, pagemap, kpageflags,
/// unpoison-pfn, corrupt-pfn, mount-hugetlbfs) and the text / fields / pagemap / kpageflags expectations: results,
/// failure messages, parse errors with their locations, and docs/scenarios.md quoting the shipped example verbatim.
/// </summary>
public class PathStepTests
{
    private const string Head = """
        scenario: t
        machine: {kernel: 6.12}
        actors:
          - name: app
            signals: {SIGBUS: catch}
            mappings:
              - {name: page, size: 4K, fill: 0x44}
        steps:

        """;

    private static ScenarioResult Run(string steps) => ScenarioRunner.Run(ScenarioParser.ParseText("t.yaml", Head + steps).Single());

    private static ScenarioException Fail(string steps) =>
        Assert.Throws<ScenarioException>(() => ScenarioParser.ParseText("t.yaml", Head + steps))!;

    [Test]
    public void ReadWriteListReadlink_ResultsAndText()
    {
        var r = Run("""
              - read-file: /proc/sys/vm/memory_failure_recovery
              - write-file: {path: /proc/sys/vm/memory_failure_recovery, text: "0\n"}
              - read-file: /proc/sys/vm/memory_failure_recovery
              - list-dir: /sys/kernel/debug/hwpoison
              - readlink: /proc/self
              - write-file: {path: /proc/sys/vm/nr_hugepages, text: "-1"}
              - read-file: /proc/sys/vm/nosuch
            """);
        Assert.That(r.Steps.Select(s => s.Result.Ret), Is.EqualTo(new long?[] { 2, 2, 2, 2, 4, -22, -2 }));
        Assert.That(r.Steps.Select(s => s.Result.Content), Is.EqualTo(new[] { "1\n", null, "0\n", "corrupt-pfn\nunpoison-pfn\n", "1000", null, null }));
        Assert.That(r.Steps.Select(s => s.Spec.Step.Describe), Is.EqualTo(new[]
        {
            "app: cat /proc/sys/vm/memory_failure_recovery", "app: echo -n \"0\\n\" > /proc/sys/vm/memory_failure_recovery",
            "app: cat /proc/sys/vm/memory_failure_recovery", "app: ls /sys/kernel/debug/hwpoison", "app: readlink /proc/self",
            "app: echo -n \"-1\" > /proc/sys/vm/nr_hugepages", "app: cat /proc/sys/vm/nosuch",
        }));
        Assert.That(r.Steps[3].Result.Notes, Is.EqualTo(new[] { "corrupt-pfn", "unpoison-pfn" }));
        Assert.That(r.Machine.MemoryFailure.Recovery, Is.False, "the write reached the sysctl");
    }

    [Test]
    public void TextAndFields_FailuresNameExpectedAndActual()
    {
        var r = Run("""
              - read-file: /proc/sys/vm/memory_failure_early_kill
                expect: {text: "1\n"}
              - read-file: /proc/meminfo
                expect: {fields: {HardwareCorrupted: 4 kB, HugePages_Total: 0, Nope: 1}}
              - write-file: {path: /proc/sys/vm/memory_failure_early_kill, text: "1"}
                expect: {text: "1"}
            """);
        Assert.That(r.Expectations.Select(e => (e.Expected, e.Failure)), Is.EqualTo(new (string, string?)[]
        {
            ("the text is \"1\\n\"", "expected \"1\\n\", actual \"0\\n\""),
            ("HardwareCorrupted: 4 kB", "expected HardwareCorrupted: 4 kB, actual HardwareCorrupted: 0 kB"),
            ("HugePages_Total: 0", null),
            ("Nope: 1", "the text has no field Nope"),
            ("the text is \"1\"", "the step read no text (= 1)"),
        }));
    }

    [Test]
    public void Pagemap_Kpageflags_RecordedPfn_AndItsUses()
    {
        var r = Run("""
              - pagemap: {at: page, as: p0}
                expect: {pagemap: {present: true, swap: true, pfn: p0}}
              - write-file: {path: /sys/kernel/debug/hwpoison/corrupt-pfn, text: "${p0}"}
              - kpageflags: {pfn: p0}
                expect: {kpageflags: {hwpoison: true, anon: false}}
              - pagemap: {at: page}
                expect: {pagemap: {pfn-not: 5}}
              - unpoison-pfn: {pfn: p0}
              - kpageflags: {pfn: 0x7fffffff}
            """);
        const ulong Present = (1UL << 63) | (1UL << 56) | (1UL << 55);
        var pfn = r.Steps[0].Result.Word!.Value & ((1UL << 55) - 1);
        Assert.That(r.Steps[0].Result.Text, Is.EqualTo($"= 8: 0x{Present | pfn:x16} (present pfn 0x{pfn:x} exclusive soft-dirty)"));
        Assert.That(r.Steps[1].Result.Text, Is.EqualTo($"= {$"0x{pfn:x}".Length} (wrote \"0x{pfn:x}\")"));
        Assert.That(r.Steps[3].Result.Text, Is.EqualTo($"= 8: 0x{(1UL << 62) | (1UL << 55) | (pfn << 5) | 27:x16} (swap type 27 offset 0x{pfn:x} soft-dirty)"));
        Assert.That(r.Steps[4].Result.Text, Is.EqualTo($"= {pfn.ToString(System.Globalization.CultureInfo.InvariantCulture).Length} (pfn 0x{pfn:x})"));
        Assert.That(r.Steps[5].Result.Ret, Is.Zero, "past max_pfn: 0 bytes");
        Assert.That(r.Expectations.Where(e => !e.Passed).Select(e => (e.Expected, e.Failure)), Is.EqualTo(new (string, string?)[]
        {
            ("pagemap swap true", $"expected pagemap swap true, actual 0x{Present | pfn:x16} (present pfn 0x{pfn:x} exclusive soft-dirty)"),
            ("kpageflags anon false", $"expected kpageflags anon false, actual 0x{r.Steps[2].Result.Word:x} (UPTODATE|DIRTY|ANON|SWAPBACKED|HWPOISON)"),
            ("pagemap pfn is not 5", $"expected a present page, actual 0x{r.Steps[3].Result.Word:x16} (swap type 27 offset 0x{pfn:x} soft-dirty)"),
        }));
    }

    [Test]
    public void MountHugetlbfs_FileMappedOnA2MBoundary()
    {
        var r = Run("""
              - write-file: {path: /proc/sys/vm/nr_hugepages, text: "1"}
              - mount-hugetlbfs: /dev/hugepages
              - open: {path: /dev/hugepages/f, flags: O_RDWR|O_CREAT, as: f}
              - ftruncate: {fd: f, size: 2M}
              - mmap-file: {fd: f, name: h, len: 2M}
              - store: {at: h+0x1000, len: 1, fill: 0x11}
              - pagemap: {at: h+0x1000, as: sub}
              - kpageflags: {pfn: sub}
                expect: {kpageflags: {huge: true, compound-tail: true, compound-head: false}}
              - mount-hugetlbfs: /dev/hugepages
            """);
        Assert.That(r.Steps[4].Result.Text, Is.EqualTo("= 0x7ffff7c00000"), "the highest 2 MiB boundary below the page and UserLib's scratch");
        Assert.That(r.Steps[8].Result.Text, Is.EqualTo("error: /dev/hugepages is already a mount point"));
        Assert.That(r.Expectations.All(e => e.Passed), Is.True);
    }

    [TestCase("  - read-file: proc/meminfo\n", 9, 16, "step 1 (read-file).path: 'proc/meminfo' is not an absolute path")]
    [TestCase("  - write-file: {path: /x, text: \"${p9}\"}\n", 9, 34, "step 1 (write-file).text: no pfn named 'p9' (record one first: pagemap: {at: …, as: p9})")]
    [TestCase("  - kpageflags: {pfn: p0}\n", 9, 23, "step 1 (kpageflags).pfn: 'p0' is not a number or a pfn recorded by a pagemap step (pagemap: {at: …, as: p0})")]
    [TestCase("  - pagemap: {at: nope}\n", 9, 19, "step 1 (pagemap).at: no mapping named 'nope' for actor app (known: page)")]
    [TestCase("  - pagemap: {at: page}\n    expect: {pagemap: {}}\n", 10, 23, "expect.pagemap: give at least one of present, swap, file, exclusive, soft-dirty, pfn, pfn-not")]
    [TestCase("  - pagemap: {at: page}\n    expect: {pagemap: {pfn: q}}\n", 10, 29, "expect.pagemap.pfn: 'q' is not a number or a pfn recorded by an earlier pagemap step")]
    [TestCase("  - pagemap: {at: page}\n    expect: {kpageflags: {lru: true}}\n", 10, 27, "expect.kpageflags: unknown key 'lru' (expected one of: uptodate, dirty, mmap, anon, swapbacked, compound-head, compound-tail, huge, hwpoison, nopage, reserved)")]
    public void ParseErrors_NameTheLocation(string steps, int line, int column, string reason)
    {
        var e = Fail(steps);
        Assert.That((e.Line, e.Column, e.Reason), Is.EqualTo((line, column, reason)));
    }

    [Test]
    public void ScenariosDoc_QuotesPseudoFilesVerbatim()
    {
        var doc = File.ReadAllText(RepoFiles.Path("docs/scenarios.md"));
        var yaml = File.ReadAllText(RepoFiles.Path("scenarios/pseudo-files.yaml"));
        Assert.That(doc, Does.Contain("```yaml\n" + yaml + "```\n"));
    }
}
