using System.Buffers;
using System.Diagnostics;
using System.Text;
using System.Text.Json;

namespace KernelSim.Scenarios.Campaigns;

/// <summary>Why an --out or --resume directory cannot be used (the CLI maps it to an exit code).</summary>
public sealed class CampaignOutputException(string message, bool unwritable) : Exception(message)
{
    /// <summary>True when the directory cannot be written (exit 73), false when its contents do not fit (exit 65).</summary>
    public bool Unwritable { get; } = unwritable;
}

/// <summary>
/// Streams a run into an --out directory: each seed's result lines, then its plan line, flushed as the seed is
/// delivered (so plans.jsonl never names a seed whose results are not all on disk), and campaign.json with
/// the run's status. Opening it checks that the directory is writable before any seed runs.
/// </summary>
public sealed class CampaignResultsWriter : IDisposable
{
    private readonly string _dir;
    private readonly CampaignManifest _start;
    private readonly FileStream _results;
    private readonly FileStream _plans;

    private CampaignResultsWriter(string dir, CampaignManifest start, FileStream results, FileStream plans, ulong done)
    {
        _dir = dir;
        _start = start;
        _results = results;
        _plans = plans;
        Done = done;
    }

    /// <summary>Seeds written (the first <see cref="Done"/> seeds of the seed set).</summary>
    public ulong Done { get; private set; }

    /// <summary>
    /// Start a new output in <paramref name="dir"/> (created if needed; the files of an earlier complete run are
    /// replaced, those of an unfinished one are not: it may be hours of work).
    /// </summary>
    /// <exception cref="CampaignOutputException">The directory cannot be written, or holds an unfinished run.</exception>
    public static CampaignResultsWriter Create(string dir, CampaignHeader header, string file, ulong total)
    {
        var manifestPath = Path.Combine(dir, CampaignOutput.Manifest);
        if (File.Exists(manifestPath))
        {
            var earlier = ReadManifest(dir);
            if (earlier.Status is CampaignManifest.Running or CampaignManifest.Interrupted)
                throw new CampaignOutputException($"--out {dir}: holds an unfinished run ({earlier.Message}, status {earlier.Status}): continue it with --resume {dir}, or remove it", unwritable: false);
        }
        FileStream? results = null, plans = null;
        try
        {
            Directory.CreateDirectory(dir);
            results = new FileStream(Path.Combine(dir, CampaignOutput.Results), FileMode.Create, FileAccess.Write, FileShare.Read, FileBuffer);
            plans = new FileStream(Path.Combine(dir, CampaignOutput.Plans), FileMode.Create, FileAccess.Write, FileShare.Read, FileBuffer);
            var headerLine = Encoding.UTF8.GetBytes(CampaignJson.Line(header) + "\n");
            results.Write(headerLine);
            plans.Write(headerLine);
            var w = new CampaignResultsWriter(dir, new CampaignManifest(header, file, CampaignManifest.Running, total, 0, "running"), results, plans, 0);
            w.Flush();
            w.WriteManifest(CampaignManifest.Running, "running");
            return w;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            results?.Dispose();
            plans?.Dispose();
            throw new CampaignOutputException($"--out {dir}: cannot write there ({e.Message})", unwritable: true);
        }
    }

    /// <summary>The campaign.json of an earlier run in <paramref name="dir"/>.</summary>
    /// <exception cref="CampaignOutputException">No readable campaign.json.</exception>
    public static CampaignManifest ReadManifest(string dir)
    {
        var path = Path.Combine(dir, CampaignOutput.Manifest);
        if (!File.Exists(path)) throw new CampaignOutputException($"{dir}: no {CampaignOutput.Manifest} (not a campaign --out directory)", unwritable: false);
        try
        {
            return CampaignJson.ParseManifest(File.ReadAllText(path));
        }
        catch (FormatException e)
        {
            throw new CampaignOutputException($"{path}: not a campaign manifest ({e.Message})", unwritable: false);
        }
    }

    /// <summary>
    /// Continue the run in <paramref name="dir"/>, whose campaign.json is <paramref name="manifest"/>: keep the
    /// seeds whose plan line is complete (a prefix of the seed set), cut anything after them from both files
    /// (a run killed mid-seed), and append from there.
    /// </summary>
    /// <exception cref="CampaignOutputException">The files do not hold a prefix of the run, or cannot be written.</exception>
    public static CampaignResultsWriter Resume(string dir, CampaignManifest manifest)
    {
        var seeds = manifest.Header.SeedSet;
        var headerLine = CampaignJson.Line(manifest.Header);
        var plansPath = Path.Combine(dir, CampaignOutput.Plans);
        var resultsPath = Path.Combine(dir, CampaignOutput.Results);
        ulong done = 0;
        long plansEnd = -1, resultsEnd = -1;
        try
        {
            foreach (var (line, end) in Lines(plansPath))
            {
                if (plansEnd < 0)
                {
                    if (line != headerLine) throw Bad(plansPath, "its header is not the one of campaign.json");
                    plansEnd = end;
                    continue;
                }
                if (done >= seeds.Count || !TryPlanSeed(line, out var s) || s != seeds.At(done)) break;
                done++;
                plansEnd = end;
            }
            if (plansEnd < 0) throw Bad(plansPath, "no header line");
            var last = done == 0 ? (ulong?)null : seeds.At(done - 1);
            ulong lastInResults = 0;
            foreach (var (line, end) in Lines(resultsPath))
            {
                if (resultsEnd < 0)
                {
                    if (line != headerLine) throw Bad(resultsPath, "its header is not the one of campaign.json");
                    resultsEnd = end;
                    continue;
                }
                OpRecord r;
                try
                {
                    r = CampaignJson.ParseOp(line);
                }
                catch (FormatException)
                {
                    break;
                }
                if (last == null || r.Seed > last) break;
                lastInResults = r.Seed;
                resultsEnd = end;
            }
            if (resultsEnd < 0) throw Bad(resultsPath, "no header line");
            if (last != null && lastInResults != last) throw Bad(resultsPath, $"plans.jsonl has seed {last} but results.jsonl stops at seed {lastInResults}");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CampaignOutputException($"--resume {dir}: cannot read the earlier run ({e.Message})", unwritable: false);
        }
        FileStream? results = null, plans = null;
        try
        {
            results = new FileStream(resultsPath, FileMode.Open, FileAccess.Write, FileShare.Read, FileBuffer);
            results.SetLength(resultsEnd);
            results.Seek(0, SeekOrigin.End);
            plans = new FileStream(plansPath, FileMode.Open, FileAccess.Write, FileShare.Read, FileBuffer);
            plans.SetLength(plansEnd);
            plans.Seek(0, SeekOrigin.End);
            var w = new CampaignResultsWriter(dir, manifest, results, plans, done);
            w.WriteManifest(CampaignManifest.Running, $"resumed after {done} seeds");
            return w;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            results?.Dispose();
            plans?.Dispose();
            throw new CampaignOutputException($"--resume {dir}: cannot write there ({e.Message})", unwritable: true);
        }
    }

    private static CampaignOutputException Bad(string path, string why) => new($"{path}: {why}", unwritable: false);

    private static bool TryPlanSeed(string line, out ulong seed)
    {
        seed = 0;
        try
        {
            seed = CampaignJson.ParsePlan(line).Seed;
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The complete (newline-terminated) lines of a file with the offset just after each.</summary>
    private static IEnumerable<(string Line, long End)> Lines(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16);
        var buf = new byte[1 << 16];
        var line = new MemoryStream();
        long pos = 0;
        int n;
        while ((n = f.Read(buf, 0, buf.Length)) > 0)
        {
            var start = 0;
            for (var i = 0; i < n; i++)
            {
                if (buf[i] != (byte)'\n') continue;
                line.Write(buf, start, i - start);
                yield return (Encoding.UTF8.GetString(line.GetBuffer(), 0, (int)line.Length), pos + i + 1);
                line.SetLength(0);
                start = i + 1;
            }
            line.Write(buf, start, n - start);
            pos += n;
        }
    }

    /// <summary>
    /// Append one seed: its result lines to results.jsonl, its plan line to plans.jsonl. A write made
    /// <see cref="FlushInterval"/> or more after the last flush flushes both files (so does <see cref="Finish"/>),
    /// results.jsonl first, and a plan line is handed to plans.jsonl only then: a seed listed in plans.jsonl has all
    /// its results on disk.
    /// </summary>
    public void Write(SeedResult r)
    {
        var e = r.Encoded ?? Encode(r);
        r.Encoded = null;
        _results.Write(e.Results);
        _pendingPlans.Write(e.Plan);
        Done++;
        e.Return();
        if (Stopwatch.GetElapsedTime(_lastFlush) >= FlushInterval) Flush();
    }

    /// <summary>
    /// How long written seeds may wait in memory before they reach the files: a flush per seed cost two write system
    /// calls per seed (about 2 % of a campaign's time, docs/performance.md); a process killed outright loses only the
    /// seeds written within this long after its last flush, which --resume runs again.
    /// </summary>
    public static readonly TimeSpan FlushInterval = TimeSpan.FromMilliseconds(100);

    private const int FileBuffer = 1 << 16;
    private readonly ArrayBufferWriter<byte> _pendingPlans = new(FileBuffer);
    private long _lastFlush = Stopwatch.GetTimestamp();

    /// <summary>
    /// Serialise a seed's result lines and plan line (what <see cref="Write"/> appends) on the calling thread, so
    /// the campaign's workers do it in parallel: the prepare step of <c>CampaignEngine.Stream</c>.
    /// </summary>
    public static void Prepare(SeedResult r) => r.Encoded = Encode(r);

    [ThreadStatic] private static ArrayBufferWriter<byte>? _buffer;
    [ThreadStatic] private static Utf8JsonWriter? _json;

    /// <summary>Each line is written by this thread's Utf8JsonWriter into one reused buffer, then copied to a pooled array.</summary>
    private static EncodedSeed Encode(SeedResult r)
    {
        var buffer = _buffer ??= new ArrayBufferWriter<byte>(1 << 16);
        var json = _json ??= new Utf8JsonWriter(buffer, CampaignJson.WriterOptions);
        buffer.ResetWrittenCount();
        foreach (var rec in r.Records)
        {
            json.Reset();
            CampaignJson.Write(json, rec);
            EndLine(json, buffer);
        }
        var results = buffer.WrittenCount;
        var text = r.PlanText ?? r.Plan.Describe();
        json.Reset();
        CampaignJson.Write(json, r.Plan.Seed, CampaignPlan.IdOf(text), text);
        EndLine(json, buffer);
        var bytes = ArrayPool<byte>.Shared.Rent(buffer.WrittenCount);
        buffer.WrittenSpan.CopyTo(bytes);
        var e = new EncodedSeed(bytes, results, buffer.WrittenCount - results);
        buffer.ResetWrittenCount();
        return e;
    }

    private static void EndLine(Utf8JsonWriter json, ArrayBufferWriter<byte> buffer)
    {
        json.Flush();
        buffer.Write("\n"u8);
    }

    private void Flush()
    {
        _results.Flush();
        _plans.Write(_pendingPlans.WrittenSpan);
        _pendingPlans.ResetWrittenCount();
        _plans.Flush();
        _lastFlush = Stopwatch.GetTimestamp();
    }

    /// <summary>Close the files and record the run's status in campaign.json.</summary>
    public void Finish(string status, string message)
    {
        Flush();
        _results.Dispose();
        _plans.Dispose();
        WriteManifest(status, message);
    }

    private void WriteManifest(string status, string message)
    {
        var path = Path.Combine(_dir, CampaignOutput.Manifest);
        var tmp = path + ".tmp";
        File.WriteAllText(tmp, CampaignJson.Text(_start with { Status = status, SeedsDone = Done, Message = message }));
        File.Move(tmp, path, overwrite: true);
    }

    /// <summary>Close the files without <see cref="Finish"/> (a run that failed): plan lines not yet flushed are dropped, and --resume runs their seeds again.</summary>
    public void Dispose()
    {
        _results.Dispose();
        _plans.Dispose();
    }
}

/// <summary>One seed's JSONL lines (results.jsonl's, then plans.jsonl's) in one array rented from the shared pool.</summary>
internal sealed class EncodedSeed(byte[] bytes, int resultsLength, int planLength)
{
    public ReadOnlySpan<byte> Results => bytes.AsSpan(0, resultsLength);

    public ReadOnlySpan<byte> Plan => bytes.AsSpan(resultsLength, planLength);

    /// <summary>Give the array back to the pool once the lines are written.</summary>
    public void Return() => ArrayPool<byte>.Shared.Return(bytes);
}
