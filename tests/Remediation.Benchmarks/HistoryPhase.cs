using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Azure.Data.Tables;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.Storage;

namespace Remediation.Benchmarks;

/// <summary>One way of reading all of history: per-page latency, the total, and what was read (for completeness and order).</summary>
public sealed record HistoryWalk(string Surface, int PageSize, Samples PageMs, double TotalMs, int Pages, int Read, int Distinct, bool NewestFirst);

public sealed record HistoryFigures(int Seeded, double SeedSeconds, Samples NewestPageMs, Samples NewestUiPageMs, IReadOnlyList<HistoryWalk> Walks, bool NewestPageIsNewest,
    Samples StorageFloorMs, HistoryWalk StorageWalk);

/// <summary>History at scale: 100,000 incidents read newest page first and paged through, by the API, the CLI and the page.</summary>
public static partial class Phases
{
    private static readonly DateTimeOffset HistoryNewest = new(2026, 11, 29, 12, 0, 0, TimeSpan.Zero);
    private static readonly string[] HistoryNamespaces = ["shop", "payments", "search", "identity", "bench"];
    private static readonly IncidentState[] HistoryStates = [IncidentState.Succeeded, IncidentState.Refused, IncidentState.NoAction, IncidentState.Escalated, IncidentState.Failed, IncidentState.Resolved];

    public static async Task<HistoryFigures> HistoryAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var table = "history" + Environment.ProcessId;
        var client = new TableServiceClient(azurite.ConnectionString).GetTableClient(table);
        await client.CreateIfNotExistsAsync().ConfigureAwait(false);
        Console.WriteLine($"  seeding {s.HistoryIncidents:N0} summary rows (64 concurrent inserts, starts spread over 30 days)");
        var seedClock = Clock.Now;
        var newestId = await SeedHistoryAsync(client, s.HistoryIncidents).ConfigureAwait(false);
        var seedSeconds = Clock.Ms(seedClock, Clock.Now) / 1000;
        Console.WriteLine($"    seeded in {seedSeconds:F1} s");

        var policy = await Hosts.WritePolicyAsync("history", Hosts.ActingPolicy).ConfigureAwait(false);
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: false);
        var (app, baseAddress) = await Hosts.StartInProcessAsync(settings).ConfigureAwait(false);
        try
        {
            using var http = Hosts.Client(baseAddress);
            var newest = await RepeatAsync(http, "api/remediations?limit=100", s.HistoryNewestRepeats).ConfigureAwait(false);
            using var first = JsonDocument.Parse(await http.GetStringAsync("api/remediations?limit=100").ConfigureAwait(false));
            var newestIsNewest = first.RootElement.GetProperty("incidents")[0].GetProperty("incidentId").GetString() == newestId;
            Console.WriteLine($"    newest page (API, 100): p50 {newest.Percentile(50):F1} ms, p99 {newest.Percentile(99):F1} ms; first is the newest seeded: {newestIsNewest}");
            var floor = await StorageFloorAsync(client, s.HistoryNewestRepeats).ConfigureAwait(false);
            Console.WriteLine($"    the same query straight to Table Storage (first 100 summary rows): p50 {floor.Percentile(50):F1} ms, p99 {floor.Percentile(99):F1} ms");
            var ui = await RepeatAsync(http, "ui?limit=100", s.HistoryUiRepeats, warmUps: 1).ConfigureAwait(false);
            Console.WriteLine($"    newest page (HTML /ui, 100): p50 {ui.Percentile(50):F1} ms, p99 {ui.Percentile(99):F1} ms");
            var walks = new List<HistoryWalk>
            {
                await WalkApiAsync(http, 1000).ConfigureAwait(false),
                await WalkCliAsync(azurite.ConnectionString, table, 1000).ConfigureAwait(false),
            };
            var storageWalk = await WalkStorageAsync(client, 1000).ConfigureAwait(false);
            return new HistoryFigures(s.HistoryIncidents, seedSeconds, newest, ui, walks, newestIsNewest, floor, storageWalk);
        }
        finally
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(policy);
        }
    }

    /// <summary>Writes the summary rows as the product records them (its own record type, its own ids); returns the newest id.</summary>
    private static async Task<string> SeedHistoryAsync(TableClient table, int count)
    {
        var span = TimeSpan.FromDays(30);
        var alertJson = """{"status":"firing","labels":{"alertname":"KubePodCrashLooping","namespace":"shop","pod":"checkout-76bf44d6cf-4crt4","container":"app","severity":"warning"},"annotations":{"summary":"Pod is crash looping."},"startsAt":"2026-11-29T12:00:00Z","generatorURL":"http://prometheus/graph"}""";
        var diagnosis = """{"class":"CrashLoop","evidence":[{"kind":"pod","text":"container app restarted 7 times; last exit code 1"},{"kind":"events","text":"Back-off restarting failed container"}]}""";
        var plan = JsonSerializer.Serialize(new ActionPlan
        {
            Action = "restart", Target = new WorkloadTarget("shop", "checkout"), Summary = "restart Deployment shop/checkout",
            Mutations = [new Mutation { Kind = MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", ResourceVersion = "123456", Description = "rollout restart",
                Patch = """{"spec":{"template":{"metadata":{"annotations":{"kubectl.kubernetes.io/restartedAt":"2026-11-29T12:00:02Z"}}}}}""" }],
            PriorState = new JsonObject { ["replicas"] = 3 }, Verify = new VerificationSpec { RolloutComplete = true, Deployment = "checkout" },
        }, ActionJsonContext.Default.ActionPlan);
        var ids = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = 64 }, async (n, ct) =>
        {
            // n = 0 is the newest; each start is ~26 s before the one before it, with a per-row jitter under a second.
            var startsAt = HistoryNewest - span * ((double)n / count) - TimeSpan.FromMilliseconds(n * 7919 % 1000);
            var ns = HistoryNamespaces[n % HistoryNamespaces.Length];
            var fingerprint = (n * 2654435761L).ToString("x16", CultureInfo.InvariantCulture);
            var state = HistoryStates[n % HistoryStates.Length];
            var record = new IncidentRecord
            {
                PartitionKey = IncidentIdentity.For(AlertSource.Alertmanager, fingerprint, startsAt),
                State = state, Source = nameof(AlertSource.Alertmanager), AlertName = "KubePodCrashLooping", Fingerprint = fingerprint,
                StartsAt = startsAt, Severity = "warning", Namespace = ns, Workload = "app-" + (n % 40).ToString(CultureInfo.InvariantCulture),
                AlertJson = alertJson, ReceivedAt = startsAt.AddSeconds(2), DiagnosisClass = "CrashLoop",
                DiagnosisSummary = "container app restarted 7 times; last exit code 1", DiagnosisJson = diagnosis,
                Action = state == IncidentState.Succeeded ? "restart" : null, PlanJson = state == IncidentState.Succeeded ? plan : null,
                Outcome = state.ToString(), OutcomeReason = "seeded for the history benchmark", CompletedAt = startsAt.AddSeconds(40),
            };
            await table.AddEntityAsync(record, ct).ConfigureAwait(false);
            ids.Add(record.PartitionKey);
        }).ConfigureAwait(false);
        return ids.Min(StringComparer.Ordinal)!;
    }

    /// <summary>The storage's own cost of the newest page: the summary-row query for 100 rows, issued directly, no host.</summary>
    private static async Task<Samples> StorageFloorAsync(TableClient table, int times)
    {
        var samples = new Samples();
        for (var i = -3; i < times; i++)
        {
            var started = Clock.Now;
            await foreach (var page in table.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, maxPerPage: 100).AsPages(pageSizeHint: 100).ConfigureAwait(false))
            {
                _ = page.Values.Count;
                break;
            }
            if (i >= 0)
            {
                samples.Add(Clock.Ms(started, Clock.Now));
            }
        }
        return samples;
    }

    /// <summary>Every summary row straight from Table Storage, a page of <paramref name="pageSize"/> at a time (the storage's own cost).</summary>
    private static async Task<HistoryWalk> WalkStorageAsync(TableClient table, int pageSize)
    {
        var pages = new Samples();
        var ids = new List<string>();
        var starts = new List<DateTimeOffset>();
        var started = Clock.Now;
        var pageStarted = Clock.Now;
        await foreach (var page in table.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, maxPerPage: pageSize).AsPages(pageSizeHint: pageSize).ConfigureAwait(false))
        {
            pages.Add(Clock.Ms(pageStarted, Clock.Now));
            ids.AddRange(page.Values.Select(e => e.PartitionKey));
            starts.AddRange(page.Values.Select(e => e.GetDateTimeOffset(nameof(IncidentRecord.StartsAt)) ?? default));
            pageStarted = Clock.Now;
        }
        return Walked("Table Storage, direct", pageSize, pages, Clock.Ms(started, Clock.Now), ids, starts);
    }

    private static async Task<Samples> RepeatAsync(HttpClient http, string url, int times, int warmUps = 3)
    {
        var samples = new Samples();
        for (var i = -warmUps; i < times; i++)
        {
            var started = Clock.Now;
            using var response = await http.GetAsync(url).ConfigureAwait(false);
            response.EnsureSuccessStatusCode();
            await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            if (i >= 0)
            {
                samples.Add(Clock.Ms(started, Clock.Now));
            }
        }
        return samples;
    }

    /// <summary>GET /api/remediations following the continuation to the end; each page timed from request to last byte.</summary>
    private static async Task<HistoryWalk> WalkApiAsync(HttpClient http, int limit)
    {
        var pages = new Samples();
        var ids = new List<string>();
        var starts = new List<DateTimeOffset>();
        string? continuation = null;
        var started = Clock.Now;
        do
        {
            var url = $"api/remediations?limit={limit}" + (continuation is null ? "" : "&continuation=" + continuation);
            var pageStarted = Clock.Now;
            var body = await http.GetStringAsync(url).ConfigureAwait(false);
            pages.Add(Clock.Ms(pageStarted, Clock.Now));
            using var page = JsonDocument.Parse(body);
            foreach (var incident in page.RootElement.GetProperty("incidents").EnumerateArray())
            {
                ids.Add(incident.GetProperty("incidentId").GetString()!);
                starts.Add(incident.GetProperty("startsAt").GetDateTimeOffset());
            }
            continuation = page.RootElement.TryGetProperty("continuation", out var next) ? next.GetString() : null;
        }
        while (continuation is not null);
        return Walked("API", limit, pages, Clock.Ms(started, Clock.Now), ids, starts);
    }

    /// <summary>`remediation history -o json` in one invocation (in-process); each page timed up to the CLI's flush of it.</summary>
    private static async Task<HistoryWalk> WalkCliAsync(string storage, string table, int pageSize)
    {
        var output = new PageTimingWriter();
        using var errors = new StringWriter();
        var started = Clock.Now;
        output.Mark = started;
        var code = await Remediation.Host.Cli.RunAsync(
            ["history", "--storage", storage, "--table", table, "-o", "json", "--page-size", pageSize.ToString(CultureInfo.InvariantCulture)], output, errors).ConfigureAwait(false);
        var total = Clock.Ms(started, Clock.Now);
        if (code != 0)
        {
            throw new InvalidOperationException($"remediation history exited {code}: {errors}");
        }
        var ids = new List<string>();
        var starts = new List<DateTimeOffset>();
        foreach (var line in output.Lines)
        {
            using var json = JsonDocument.Parse(line);
            ids.Add(json.RootElement.GetProperty("incidentId").GetString()!);
            starts.Add(json.RootElement.GetProperty("startsAt").GetDateTimeOffset());
        }
        return Walked("CLI", pageSize, output.PageMs, total, ids, starts);
    }

    private static HistoryWalk Walked(string surface, int pageSize, Samples pages, double totalMs, List<string> ids, List<DateTimeOffset> starts)
    {
        var newestFirst = starts.Zip(starts.Skip(1)).All(p => p.First >= p.Second);
        var walk = new HistoryWalk(surface, pageSize, pages, totalMs, pages.Count, ids.Count, ids.Distinct(StringComparer.Ordinal).Count(), newestFirst);
        Console.WriteLine($"    all pages ({surface}, {pageSize}): {walk.Pages} pages, p50 {pages.Percentile(50):F1} ms, p99 {pages.Percentile(99):F1} ms, total {totalMs / 1000:F1} s; read {walk.Read:N0}, distinct {walk.Distinct:N0}, newest first {newestFirst}");
        return walk;
    }

    /// <summary>Collects the CLI's JSON lines; each FlushAsync (the CLI flushes once per page) closes a page's time.</summary>
    private sealed class PageTimingWriter : StringWriter
    {
        public long Mark { get; set; }
        public Samples PageMs { get; } = new();
        public IEnumerable<string> Lines => ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);

        public override Task FlushAsync(CancellationToken cancellationToken)
        {
            var now = Clock.Now;
            PageMs.Add(Clock.Ms(Mark, now));
            Mark = now;
            return base.FlushAsync(cancellationToken);
        }
    }
}
