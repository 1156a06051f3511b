using System.Net;
using System.Text;
using System.Text.Json;
using Azure.Data.Tables;
using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation.Benchmarks;

/// <summary>Result of one load run against POST /api/alerts/alertmanager.</summary>
public sealed record LoadResult(string Name, int Requests, int Alerts, int Accepted, int Failed, double Seconds, Samples Latency, IReadOnlyList<string> AcceptedIds)
{
    public double AlertsPerSecond => Alerts / Seconds;
    public int Lost { get; set; }
}

/// <summary>Open-loop (scheduled at a fixed rate regardless of responses) and closed-loop (N senders) load.</summary>
public static class LoadGen
{
    private const string Path = "api/alerts/alertmanager";

    /// <summary>
    /// Sends <paramref name="count"/> single-alert deliveries at <paramref name="rate"/>/s. Latency is measured from each
    /// request's scheduled send time (no coordinated omission): a slow answer delays nothing that follows.
    /// </summary>
    public static async Task<LoadResult> OpenLoopAsync(HttpClient client, string name, int phase, double rate, int count, Func<int, string> deployment)
    {
        var latency = new Samples();
        var bodies = Enumerable.Range(0, count)
            .Select(i => Payloads.Alertmanager([new Payloads.AlertSpec(BenchCluster.Namespace, deployment(i), Payloads.Fingerprint(phase, i), i)]))
            .ToArray();
        var tasks = new List<Task>(count);
        var start = Clock.Now + (long)(0.05 * TimeProvider.System.TimestampFrequency);
        var tally = new Tally(start);
        for (var i = 0; i < count; i++)
        {
            var due = Clock.After(start, TimeSpan.FromSeconds(i / rate));
            await Clock.UntilAsync(due).ConfigureAwait(false);
            var body = bodies[i];
            tasks.Add(Task.Run(async () =>
            {
                var (ok, incidents) = await SendAsync(client, body).ConfigureAwait(false);
                var done = Clock.Now;
                latency.Add(Clock.Ms(due, done));
                tally.Record(done, ok, incidents);
            }));
        }
        await Task.WhenAll(tasks).ConfigureAwait(false);
        return new LoadResult(name, count, count, tally.Ids.Count, tally.Failed, Clock.Ms(start, tally.Last) / 1000.0, latency, tally.Ids);
    }

    /// <summary>N senders, each sending its next delivery when the previous one is answered, for a fixed duration.</summary>
    public static async Task<LoadResult> ClosedLoopAsync(HttpClient client, string name, int phase, int senders, int alertsPerRequest, TimeSpan duration, Func<int, string> deployment)
    {
        var latency = new Samples();
        var next = -1;
        var requests = 0;
        var start = Clock.Now;
        var end = Clock.After(start, duration);
        var tally = new Tally(start);
        var workers = Enumerable.Range(0, senders).Select(_ => Task.Run(async () =>
        {
            while (Clock.Now < end)
            {
                var first = Interlocked.Add(ref next, alertsPerRequest) - alertsPerRequest + 1;
                var alerts = Enumerable.Range(first, alertsPerRequest)
                    .Select(i => new Payloads.AlertSpec(BenchCluster.Namespace, deployment(i), Payloads.Fingerprint(phase, i), i)).ToList();
                var body = Payloads.Alertmanager(alerts);
                var sent = Clock.Now;
                var (ok, incidents) = await SendAsync(client, body).ConfigureAwait(false);
                var done = Clock.Now;
                latency.Add(Clock.Ms(sent, done));
                Interlocked.Increment(ref requests);
                tally.Record(done, ok, incidents);
            }
        })).ToList();
        await Task.WhenAll(workers).ConfigureAwait(false);
        return new LoadResult(name, requests, requests * alertsPerRequest, tally.Ids.Count, tally.Failed, Clock.Ms(start, tally.Last) / 1000.0, latency, tally.Ids);
    }

    /// <summary>What the senders of one run have seen: accepted incident ids, failed deliveries, the last answer's time.</summary>
    private sealed class Tally(long start)
    {
        private readonly Lock _lock = new();

        public List<string> Ids { get; } = [];
        public int Failed { get; private set; }
        public long Last { get; private set; } = start;

        public void Record(long done, bool ok, IReadOnlyList<string> incidents)
        {
            lock (_lock)
            {
                Last = Math.Max(Last, done);
                if (ok)
                {
                    Ids.AddRange(incidents);
                }
                else
                {
                    Failed++;
                }
            }
        }
    }

    /// <summary>Like Alertmanager: a failed delivery (a 503 of the ingest limit, say) is retried with backoff, so it is not a loss.</summary>
    public static async Task<(bool Ok, IReadOnlyList<string> Incidents)> SendRetryingAsync(HttpClient client, string body)
    {
        for (var attempt = 0; ; attempt++)
        {
            var sent = await SendAsync(client, body).ConfigureAwait(false);
            if (sent.Ok || attempt == 9)
            {
                return sent;
            }
            await Task.Delay(200 * (attempt + 1)).ConfigureAwait(false);
        }
    }

    public static async Task<(bool Ok, IReadOnlyList<string> Incidents)> SendAsync(HttpClient client, string body)
    {
        try
        {
            using var content = new StringContent(body, Encoding.UTF8, "application/json");
            using var response = await client.PostAsync(new Uri(Path, UriKind.Relative), content).ConfigureAwait(false);
            if (response.StatusCode != HttpStatusCode.Accepted)
            {
                return (false, []);
            }
            using var json = await JsonDocument.ParseAsync(await response.Content.ReadAsStreamAsync().ConfigureAwait(false)).ConfigureAwait(false);
            var incidents = json.RootElement.GetProperty("incidents").EnumerateArray().Select(e => e.GetString()!).ToList();
            return (true, incidents);
        }
        catch (HttpRequestException)
        {
            return (false, []);
        }
        catch (TaskCanceledException)
        {
            return (false, []);
        }
    }

    /// <summary>Accepted incidents without their row in the incidents table (must be 0).</summary>
    public static async Task<int> CountLostAsync(TableClient table, IReadOnlyCollection<string> acceptedIds)
    {
        var rows = new HashSet<string>(StringComparer.Ordinal);
        await foreach (var row in table.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, maxPerPage: 1000, select: ["PartitionKey"]).ConfigureAwait(false))
        {
            rows.Add(row.PartitionKey);
        }
        return acceptedIds.Count(id => !rows.Contains(id));
    }

    public static string IncidentId(int phase, int index) =>
        IncidentIdentity.For(AlertSource.Alertmanager, Payloads.Fingerprint(phase, index), Payloads.StartsAt.AddSeconds(index % 86_400));
}
