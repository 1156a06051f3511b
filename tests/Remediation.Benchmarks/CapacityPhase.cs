using System.Globalization;
using Azure.Data.Tables;
using Remediation.Storage;

namespace Remediation.Benchmarks;

/// <summary>Storage requests by "service operation" (e.g. "table insert"), read from the host's /metrics.</summary>
public sealed class StorageCounts
{
    public Dictionary<string, double> ByOperation { get; } = new(StringComparer.Ordinal);

    public double Total => ByOperation.Values.Sum();

    public double Of(string service) => ByOperation.Where(kv => kv.Key.StartsWith(service + " ", StringComparison.Ordinal)).Sum(kv => kv.Value);

    /// <summary>remediation_storage_requests_total from the host's /metrics (anonymous, Prometheus text).</summary>
    public static async Task<StorageCounts> ReadAsync(Uri baseAddress)
    {
        using var client = new HttpClient { BaseAddress = baseAddress, Timeout = TimeSpan.FromSeconds(30) };
        var text = await client.GetStringAsync(new Uri("metrics", UriKind.Relative)).ConfigureAwait(false);
        var counts = new StorageCounts();
        foreach (var line in text.Split('\n'))
        {
            if (!line.StartsWith("remediation_storage_requests_total{", StringComparison.Ordinal))
            {
                continue;
            }
            var labels = line[(line.IndexOf('{', StringComparison.Ordinal) + 1)..line.IndexOf('}', StringComparison.Ordinal)];
            string Label(string name) => labels.Split(',').Select(p => p.Split('=', 2)).First(p => p[0] == name)[1].Trim('"');
            var value = double.Parse(line[(line.LastIndexOf(' ') + 1)..], CultureInfo.InvariantCulture);
            counts.ByOperation[Label("service") + " " + Label("operation")] = value;
        }
        return counts;
    }

    public static StorageCounts operator -(StorageCounts after, StorageCounts before)
    {
        ArgumentNullException.ThrowIfNull(after);
        ArgumentNullException.ThrowIfNull(before);
        var d = new StorageCounts();
        foreach (var (key, value) in after.ByOperation)
        {
            var delta = value - before.ByOperation.GetValueOrDefault(key);
            if (delta > 0)
            {
                d.ByOperation[key] = delta;
            }
        }
        return d;
    }

    /// <summary>"12.0 (table insert 10.0, queue send 2.0)": per unit, largest first.</summary>
    public string Per(double units) => units <= 0 ? "n/a" :
        string.Create(CultureInfo.InvariantCulture, $"**{Total / units:F2}** ({string.Join(", ", ByOperation.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Key} {kv.Value / units:F2}"))})");
}

/// <summary>Requests per unit of work, counted by the host itself (remediation_storage_requests_total), not estimated.</summary>
public sealed record CapacityFigures(int Alerts, StorageCounts PerAlert, StorageCounts PerDuplicate, StorageCounts Remediated, int RemediatedCount,
    StorageCounts Refused, int RefusedCount, StorageCounts Idle, double IdleSeconds, string States);

/// <summary>The capacity counts.</summary>
public static partial class Phases
{
    /// <summary>
    /// N alerts on N crash-looping workloads, one alert per delivery: ingested by a host with its worker off (per alert),
    /// delivered again (per duplicate), then drained by a host with its worker on (per remediated incident: act and
    /// verify); N more alerts on the same workloads are ingested, then drained (per refused incident: cooldown). Last,
    /// the worker-on host idles (the sweep alone). Each step reads the host's /metrics before and after.
    /// </summary>
    public static async Task<CapacityFigures> CapacityAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var n = s.Quick ? 20 : BenchCluster.CapacityWorkloads;
        var policy = await Hosts.WritePolicyAsync("capacity", Hosts.StormPolicy).ConfigureAwait(false);
        var table = "capacity" + Environment.ProcessId;
        var store = new TableServiceClient(azurite.ConnectionString).GetTableClient(table);
        try
        {
            var first = Enumerable.Range(0, n).Select(i => Payloads.Alertmanager([new Payloads.AlertSpec(BenchCluster.Namespace, BenchCluster.CapacityName(i), Payloads.Fingerprint(400, i), i)])).ToList();
            var second = Enumerable.Range(0, n).Select(i => Payloads.Alertmanager([new Payloads.AlertSpec(BenchCluster.Namespace, BenchCluster.CapacityName(i), Payloads.Fingerprint(401, i), i)])).ToList();
            var perAlert = await WithHostAsync(azurite, cluster, s, table, policy, worker: false, uri => SendAllAsync(uri, first)).ConfigureAwait(false);
            var perDuplicate = await WithHostAsync(azurite, cluster, s, table, policy, worker: false, uri => SendAllAsync(uri, first)).ConfigureAwait(false);
            Console.WriteLine($"  {n} alerts: {perAlert.Total / n:F2} requests per alert, {perDuplicate.Total / n:F2} per duplicate; draining (remediations)...");
            var remediated = await WithHostAsync(azurite, cluster, s, table, policy, worker: true, _ => UntilTerminalAsync(store, n)).ConfigureAwait(false);
            await WithHostAsync(azurite, cluster, s, table, policy, worker: false, uri => SendAllAsync(uri, second)).ConfigureAwait(false);
            Console.WriteLine("  draining the second alerts (cooldown: refused)...");
            StorageCounts? idle = null;
            const double idleSeconds = 10;
            var refused = await WithHostAsync(azurite, cluster, s, table, policy, worker: true, async uri =>
            {
                await UntilTerminalAsync(store, 2 * n).ConfigureAwait(false);
                var before = await StorageCounts.ReadAsync(uri).ConfigureAwait(false);
                await Task.Delay(TimeSpan.FromSeconds(idleSeconds)).ConfigureAwait(false);
                idle = await StorageCounts.ReadAsync(uri).ConfigureAwait(false) - before;
            }).ConfigureAwait(false) - idle!;
            var states = new Dictionary<string, int>(StringComparer.Ordinal);
            await foreach (var row in store.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, maxPerPage: 1000, select: ["State"]).ConfigureAwait(false))
            {
                var state = row.GetString("State") ?? "(none)";
                states[state] = states.GetValueOrDefault(state) + 1;
            }
            var stateText = string.Join(", ", states.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value} {kv.Key}"));
            Console.WriteLine($"    states: {stateText}; per remediated incident {remediated.Total / n:F2}, per refused {refused.Total / n:F2}, idle {idle!.Total / idleSeconds:F2}/s");
            return new CapacityFigures(n, perAlert, perDuplicate, remediated, n, refused, n, idle!, idleSeconds, stateText);
        }
        finally
        {
            File.Delete(policy);
        }
    }

    /// <summary>Starts the host process on the table, runs <paramref name="work"/>, and returns the storage requests counted meanwhile.</summary>
    private static async Task<StorageCounts> WithHostAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s, string table, string policy, bool worker, Func<Uri, Task> work)
    {
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker);
        var (process, baseAddress, _) = await Hosts.StartProcessAsync(s.HostDll, settings, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        try
        {
            var before = await StorageCounts.ReadAsync(baseAddress).ConfigureAwait(false);
            await work(baseAddress).ConfigureAwait(false);
            return await StorageCounts.ReadAsync(baseAddress).ConfigureAwait(false) - before;
        }
        finally
        {
            await Hosts.StopProcessAsync(process).ConfigureAwait(false);
        }
    }

    private static async Task SendAllAsync(Uri baseAddress, IReadOnlyList<string> bodies)
    {
        using var client = Hosts.Client(baseAddress);
        foreach (var body in bodies)
        {
            var (ok, _) = await LoadGen.SendAsync(client, body).ConfigureAwait(false);
            if (!ok)
            {
                throw new InvalidOperationException("a capacity delivery was not accepted");
            }
        }
    }

    /// <summary>Until the table holds <paramref name="incidents"/> incidents, none of them open (Received, Acting, Verifying).</summary>
    private static async Task UntilTerminalAsync(TableClient store, int incidents)
    {
        var open = IncidentRowKeys.SummaryFilter + " and (State eq 'Received' or State eq 'Acting' or State eq 'Verifying')";
        var deadline = Clock.After(Clock.Now, TimeSpan.FromMinutes(5));
        while (await CountAsync(store, open).ConfigureAwait(false) > 0 || await CountAsync(store, IncidentRowKeys.SummaryFilter).ConfigureAwait(false) < incidents)
        {
            if (Clock.Now > deadline)
            {
                throw new TimeoutException("capacity: incidents not terminal after 5 minutes");
            }
            await Task.Delay(200).ConfigureAwait(false);
        }
    }
}
