using System.Collections.Concurrent;
using System.Diagnostics;

namespace Remediation.Benchmarks;

/// <summary>One contiguous slice of an incident's end-to-end time, from the product's spans.</summary>
public sealed record E2eSegment(string Name, string Spans, Samples Ms);

/// <summary>One incident of the tail: its end-to-end time, its slices, and what ran in the process meanwhile.</summary>
public sealed record E2eTailIncident(string Incident, double EndToEndMs, IReadOnlyList<double> SegmentMs, int VerifyChecksOverlapping, int SweepsOverlapping,
    double GcPauseMs, int MaxPendingWorkItems);

/// <summary>The process's runtime during the phase: GC counts and pause time, thread-pool queue and threads.</summary>
public sealed record E2eRuntime(int Gen0, int Gen1, int Gen2, double GcPauseMs, int PendingP99, int PendingMax, int ThreadsMax, int Samples);

/// <summary>Spans of the phase: each incident's own (by name and incident) and the background ones (verification checks, sweeps).</summary>
public sealed class E2eSpans : IDisposable
{
    private readonly ActivityListener _listener;

    public E2eSpans()
    {
        _listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RemediationMetrics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                var span = (activity.StartTimeUtc, activity.StartTimeUtc + activity.Duration);
                if (activity.OperationName is "remediation.verify" or "remediation.sweep")
                {
                    Background.Enqueue((activity.OperationName, span.StartTimeUtc, span.Item2));
                }
                else if (activity.GetTagItem("remediation.incident_id") is string id)
                {
                    ByIncident[(activity.OperationName, id)] = span;
                }
            },
        };
        ActivitySource.AddActivityListener(_listener);
    }

    public ConcurrentDictionary<(string Name, string Incident), (DateTime Start, DateTime End)> ByIncident { get; } = new();
    public ConcurrentQueue<(string Name, DateTime Start, DateTime End)> Background { get; } = new();

    public bool Has(string name, string incident) => ByIncident.ContainsKey((name, incident));

    public bool TryGet(string name, string incident, out (DateTime Start, DateTime End) span) => ByIncident.TryGetValue((name, incident), out span);

    public void Dispose() => _listener.Dispose();
}

/// <summary>Samples the thread pool every 10 ms and the GC's cumulative pause time, so a slow incident can be set beside them.</summary>
public sealed class RuntimeSampler : IAsyncDisposable
{
    private readonly CancellationTokenSource _stop = new();
    private readonly List<(DateTime At, int Pending, int Threads, TimeSpan Pause)> _samples = [];
    private readonly int[] _gcBefore = [GC.CollectionCount(0), GC.CollectionCount(1), GC.CollectionCount(2)];
    private readonly TimeSpan _pauseBefore = GC.GetTotalPauseDuration();
    private readonly Task _loop;

    public RuntimeSampler() => _loop = Task.Run(LoopAsync);

    private async Task LoopAsync()
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMilliseconds(10));
        try
        {
            do
            {
                _samples.Add((TimeProvider.System.GetUtcNow().UtcDateTime, (int)ThreadPool.PendingWorkItemCount, ThreadPool.ThreadCount, GC.GetTotalPauseDuration()));
            }
            while (await timer.WaitForNextTickAsync(_stop.Token).ConfigureAwait(false));
        }
        catch (OperationCanceledException)
        {
            // Stopped.
        }
    }

    /// <summary>Stops sampling; returns the totals since construction.</summary>
    public async Task<E2eRuntime> StopAsync()
    {
        await _stop.CancelAsync().ConfigureAwait(false);
        await _loop.ConfigureAwait(false);
        var pending = _samples.Select(s => s.Pending).Order().ToArray();
        var p99 = pending.Length == 0 ? 0 : pending[Math.Clamp((int)Math.Ceiling(0.99 * pending.Length) - 1, 0, pending.Length - 1)];
        return new E2eRuntime(GC.CollectionCount(0) - _gcBefore[0], GC.CollectionCount(1) - _gcBefore[1], GC.CollectionCount(2) - _gcBefore[2],
            (GC.GetTotalPauseDuration() - _pauseBefore).TotalMilliseconds, p99, pending.DefaultIfEmpty(0).Max(), _samples.Select(s => s.Threads).DefaultIfEmpty(0).Max(), _samples.Count);
    }

    /// <summary>GC pause time and the largest thread-pool queue seen between two instants (10 ms resolution).</summary>
    public (double GcPauseMs, int MaxPending) During(DateTime from, DateTime to)
    {
        var inside = _samples.Where(s => s.At >= from.AddMilliseconds(-10) && s.At <= to.AddMilliseconds(10)).ToList();
        if (inside.Count == 0)
        {
            return (0, 0);
        }
        return ((inside[^1].Pause - inside[0].Pause).TotalMilliseconds, inside.Max(s => s.Pending));
    }

    public async ValueTask DisposeAsync()
    {
        if (!_stop.IsCancellationRequested)
        {
            await StopAsync().ConfigureAwait(false);
        }
        _stop.Dispose();
    }
}

/// <summary>Cuts each incident's end-to-end time into contiguous slices that add up to it.</summary>
public static class E2eBreakdown
{
    /// <summary>Slice names and the span boundaries that delimit them (the report prints both).</summary>
    public static readonly (string Name, string Spans)[] Slices =
    [
        ("ingest (parse, claim, enqueue)", "ingest start → ingest stop"),
        ("queue wait", "ingest stop → process start"),
        ("load, aim, safety check", "process start → diagnose start"),
        ("diagnose (cluster reads)", "diagnose"),
        ("decide", "decide"),
        ("reserve, intent row", "decide stop → act start"),
        ("act (mutating call)", "act"),
        ("record (outcome row + summary)", "act stop → record stop"),
    ];

    /// <summary>The slices of one incident, or null when one of its spans is missing (it did not act).</summary>
    public static double[]? Of(E2eSpans spans, string id)
    {
        string[] names = ["remediation.ingest", "remediation.process", "remediation.diagnose", "remediation.decide", "remediation.act", "remediation.record"];
        var s = new (DateTime Start, DateTime End)[names.Length];
        for (var i = 0; i < names.Length; i++)
        {
            if (!spans.TryGet(names[i], id, out s[i]))
            {
                return null;
            }
        }
        var (ingest, process, diagnose, decide, act, record) = (s[0], s[1], s[2], s[3], s[4], s[5]);
        DateTime[] bounds = [ingest.Start, ingest.End, process.Start, diagnose.Start, diagnose.End, decide.End, act.Start, act.End, record.End];
        // diagnose stop → decide start is a few lines of code; it is counted in "decide".
        return Enumerable.Range(0, bounds.Length - 1).Select(i => (bounds[i + 1] - bounds[i]).TotalMilliseconds).ToArray();
    }

    /// <summary>The <paramref name="count"/> slowest incidents, with what overlapped them.</summary>
    public static List<E2eTailIncident> Tail(E2eSpans spans, RuntimeSampler runtime, IEnumerable<(string Id, double[] Slices)> incidents, int count)
    {
        var background = spans.Background.ToList();
        var rows = new List<E2eTailIncident>();
        foreach (var (id, slices) in incidents.OrderByDescending(x => x.Slices.Sum()).Take(count))
        {
            spans.TryGet("remediation.ingest", id, out var ingest);
            spans.TryGet("remediation.record", id, out var record);
            bool Overlaps((string Name, DateTime Start, DateTime End) b, string name) => b.Name == name && b.Start < record.End && b.End > ingest.Start;
            var (pause, pending) = runtime.During(ingest.Start, record.End);
            rows.Add(new E2eTailIncident(id, slices.Sum(), slices, background.Count(b => Overlaps(b, "remediation.verify")), background.Count(b => Overlaps(b, "remediation.sweep")), pause, pending));
        }
        return rows;
    }
}
