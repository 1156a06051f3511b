using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Storage;

namespace Remediation.Benchmarks;

public sealed record AckFigures(IReadOnlyList<LoadResult> Runs);

public sealed record E2eFigures(int Incidents, int Acted, Samples EndToEnd, Samples ToMutation, Samples QueueWait, Samples Processing, Samples Limit,
    double MutatingPerRemediation, IReadOnlyList<string> ReadResources, string LimitComposition)
{
    public double Ratio => EndToEnd.Percentile(50) / Limit.Percentile(50);
    public double ProcessingRatio => Processing.Percentile(50) / Limit.Percentile(50);
}

public sealed record StormFigures(int Alerts, int Deliveries, int Failed, int Incidents, int Actions, int WorkloadsActedOnce, int Refused, int Succeeded,
    int Failures, int NonTerminal, double IngestSeconds, double DrainSeconds, bool Drained, double? PeakRssMb, int MutatingPerRemediationMax, string States);

public sealed record StartupFigures(string Variant, string Directory, Samples ReadyMs);

/// <summary>The measured phases. Each uses its own table and queue on the same Azurite and simulator.</summary>
public static class Phases
{
    /// <summary>Ack latency at fixed rates (open loop) and at saturation (closed loop), then rows counted for loss.</summary>
    public static async Task<AckFigures> AckAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var policy = await Hosts.WritePolicyAsync("ack", Hosts.ActingPolicy).ConfigureAwait(false);
        var table = "ack" + Environment.ProcessId;
        // Worker off: the ingest path alone (claim + enqueue) is measured; the queue keeps the work items.
        var (app, baseAddress) = await Hosts.StartInProcessAsync(Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: false)).ConfigureAwait(false);
        var runs = new List<LoadResult>();
        try
        {
            using var client = Hosts.Client(baseAddress);
            var store = app.Services.GetRequiredService<IncidentStore>();
            Func<int, string> target = i => BenchCluster.StormName(i % 100);
            Console.WriteLine("  warm-up (closed loop, 4 senders, 3 s; not reported)");
            await LoadGen.ClosedLoopAsync(client, "warm-up", 100, 4, 1, TimeSpan.FromSeconds(3), target).ConfigureAwait(false);
            var phase = 101;
            foreach (var (rate, seconds) in s.Rates)
            {
                Console.WriteLine($"  open loop {rate}/s for {seconds} s");
                var run = await LoadGen.OpenLoopAsync(client, $"open loop {rate}/s, 1 alert/request", phase++, rate, (int)(rate * seconds), target).ConfigureAwait(false);
                run.Lost = await LoadGen.CountLostAsync(store.Table, run.AcceptedIds).ConfigureAwait(false);
                runs.Add(run);
                Console.WriteLine($"    p50 {run.Latency.Percentile(50):F1} ms, p99 {run.Latency.Percentile(99):F1} ms, {run.AlertsPerSecond:F0} alerts/s, failed {run.Failed}, lost {run.Lost}");
            }
            foreach (var (senders, perRequest) in s.Saturation)
            {
                Console.WriteLine($"  closed loop {senders} senders x {perRequest} alerts/request for {s.SaturationSeconds} s");
                var run = await LoadGen.ClosedLoopAsync(client, $"saturation: {senders} senders, {perRequest} alerts/request", phase++, senders, perRequest,
                    TimeSpan.FromSeconds(s.SaturationSeconds), target).ConfigureAwait(false);
                run.Lost = await LoadGen.CountLostAsync(store.Table, run.AcceptedIds).ConfigureAwait(false);
                runs.Add(run);
                Console.WriteLine($"    p50 {run.Latency.Percentile(50):F1} ms, p99 {run.Latency.Percentile(99):F1} ms, {run.AlertsPerSecond:F0} alerts/s, failed {run.Failed}, lost {run.Lost}");
            }
        }
        finally
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(policy);
        }
        return new AckFigures(runs);
    }

    /// <summary>
    /// End-to-end latency per incident from the product's own spans (in-process host): remediation.ingest start (alert
    /// parsed) → remediation.act stop (mutating call acknowledged) → remediation.process stop (outcome row and summary
    /// written). Then the physical limit: the same round trips issued directly, one after another.
    /// </summary>
    public static async Task<E2eFigures> EndToEndAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var spans = new ConcurrentDictionary<(string Name, string Incident), (DateTime Start, DateTime End)>();
        using var listener = new ActivityListener
        {
            ShouldListenTo = source => source.Name == RemediationMetrics.Name,
            Sample = (ref ActivityCreationOptions<ActivityContext> _) => ActivitySamplingResult.AllDataAndRecorded,
            ActivityStopped = activity =>
            {
                if (activity.GetTagItem("remediation.incident_id") is string id)
                {
                    spans[(activity.OperationName, id)] = (activity.StartTimeUtc, activity.StartTimeUtc + activity.Duration);
                }
            },
        };
        ActivitySource.AddActivityListener(listener);

        var policy = await Hosts.WritePolicyAsync("e2e", Hosts.ActingPolicy).ConfigureAwait(false);
        var table = "e2e" + Environment.ProcessId;
        var (app, baseAddress) = await Hosts.StartInProcessAsync(Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: true)).ConfigureAwait(false);
        const int phase = 200;
        var ids = Enumerable.Range(0, s.E2eIncidents).Select(i => LoadGen.IncidentId(phase, i)).ToList();
        var before = cluster.Cluster.Requests.Count;
        try
        {
            using var client = Hosts.Client(baseAddress);
            var store = app.Services.GetRequiredService<IncidentStore>();
            Console.WriteLine($"  {s.E2eIncidents} incidents on distinct deployments, open loop {s.E2eRate}/s");
            var run = await LoadGen.OpenLoopAsync(client, "e2e", phase, s.E2eRate, s.E2eIncidents, BenchCluster.E2eName).ConfigureAwait(false);
            if (run.Failed > 0)
            {
                Console.WriteLine($"    {run.Failed} deliveries failed");
            }
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(120) && ids.Any(id => !spans.ContainsKey(("remediation.process", id))))
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
            var states = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var id in ids)
            {
                states[id] = (await store.GetAsync(id).ConfigureAwait(false))?.State.ToString() ?? "(none)";
            }
            var byState = states.Values.GroupBy(v => v).Select(g => $"{g.Key} {g.Count()}");
            Console.WriteLine($"    states after processing: {string.Join(", ", byState)}");
        }
        finally
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(policy);
        }

        var requests = cluster.Cluster.Requests.Skip(before).Where(r => r.Namespace == BenchCluster.Namespace).ToList();
        var mutating = requests.Where(r => r.IsMutating && r.Name?.StartsWith("e2e-", StringComparison.Ordinal) == true).ToList();
        var readResources = requests.Where(r => r.Verb is "get" or "list").Select(r => $"{r.Verb} {r.Resource}").Distinct().Order().ToList();
        var endToEnd = new Samples();
        var toMutation = new Samples();
        var queueWait = new Samples();
        var processing = new Samples();
        var acted = 0;
        foreach (var id in ids)
        {
            if (!spans.TryGetValue(("remediation.ingest", id), out var ingest) || !spans.TryGetValue(("remediation.process", id), out var process))
            {
                continue;
            }
            // The end point is the outcome row written (the "record" stage); what follows it in the worker (scheduling the
            // first verification check, notifications) is not on the path the issue measures.
            var recorded = spans.TryGetValue(("remediation.record", id), out var record) ? record.End : process.End;
            endToEnd.Add((recorded - ingest.Start).TotalMilliseconds);
            queueWait.Add((process.Start - ingest.End).TotalMilliseconds);
            processing.Add((recorded - process.Start).TotalMilliseconds);
            if (spans.TryGetValue(("remediation.act", id), out var act))
            {
                acted++;
                toMutation.Add((act.End - ingest.Start).TotalMilliseconds);
            }
        }
        var mutatingPer = acted == 0 ? double.NaN : (double)mutating.Count / acted;

        Console.WriteLine("  physical limit: claim AddEntity + Kubernetes reads + patch + record AddEntity, issued directly and in sequence");
        var (limit, composition) = await PhysicalLimitAsync(azurite, cluster, s.E2eIncidents).ConfigureAwait(false);
        return new E2eFigures(ids.Count, acted, endToEnd, toMutation, queueWait, processing, limit, mutatingPer, readResources, composition);
    }

    private static async Task<(Samples, string)> PhysicalLimitAsync(AzuriteProcess azurite, BenchCluster cluster, int count)
    {
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient("limit" + Environment.ProcessId);
        await table.CreateIfNotExistsAsync().ConfigureAwait(false);
        var k8s = cluster.Client;
        var alertJson = new string('x', 900);
        var samples = new Samples();
        // One untimed round to open the connections, as the product's pooled clients are.
        for (var i = -1; i < count; i++)
        {
            var name = BenchCluster.E2eName(Math.Max(i, 0));
            var key = "limit-" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var started = Clock.Now;
            await table.AddEntityAsync(new TableEntity(key, IncidentRowKeys.For(IncidentRowKeys.Summary, key)) { ["State"] = "Received", ["AlertJson"] = alertJson }).ConfigureAwait(false);
            var deployment = await k8s.AppsV1.ReadNamespacedDeploymentAsync(name, BenchCluster.Namespace).ConfigureAwait(false);
            var selector = string.Join(",", deployment.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
            await k8s.AppsV1.ListNamespacedReplicaSetAsync(BenchCluster.Namespace, labelSelector: selector).ConfigureAwait(false);
            await k8s.CoreV1.ListNamespacedPodAsync(BenchCluster.Namespace, labelSelector: selector).ConfigureAwait(false);
            await k8s.CoreV1.ListNamespacedEventAsync(BenchCluster.Namespace, fieldSelector: "type=Warning", limit: 500).ConfigureAwait(false);
            var patch = $"{{\"metadata\":{{\"resourceVersion\":\"{deployment.Metadata.ResourceVersion}\"}},\"spec\":{{\"template\":{{\"metadata\":{{\"annotations\":{{\"bench/limit\":\"{key}\"}}}}}}}}}}";
            await k8s.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, BenchCluster.Namespace).ConfigureAwait(false);
            await table.AddEntityAsync(new TableEntity(key, "outcome") { ["Outcome"] = "Verifying", ["Reason"] = "limit" }).ConfigureAwait(false);
            if (i >= 0)
            {
                samples.Add(Clock.Ms(started, Clock.Now));
            }
        }
        return (samples, "AddEntity(claim) + GET deployment + LIST replicasets + LIST pods + LIST events(type=Warning) + PATCH deployment + AddEntity(outcome)");
    }

    /// <summary>
    /// The storm: distinct alerts over 100 workloads, in Alertmanager-sized groups, every group delivered 3 times, into
    /// the host running as its own process (so its peak RSS is its own). Actions are counted at the simulator.
    /// </summary>
    public static async Task<StormFigures> StormAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var policy = await Hosts.WritePolicyAsync("storm", Hosts.StormPolicy).ConfigureAwait(false);
        var table = "storm" + Environment.ProcessId;
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: true);
        settings["Remediation:Host:QueueConcurrency"] = s.StormQueueConcurrency.ToString(System.Globalization.CultureInfo.InvariantCulture);
        var before = cluster.Cluster.Requests.Count;
        var (process, baseAddress, _) = await Hosts.StartProcessAsync(s.HostDll, settings, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
        const int phase = 300;
        var pid = process.Id;
        double? peak = null;
        try
        {
            using var client = Hosts.Client(baseAddress);
            var storeTable = new TableServiceClient(azurite.ConnectionString).GetTableClient(table);
            var groups = Enumerable.Range(0, (s.StormAlerts + s.StormGroupSize - 1) / s.StormGroupSize)
                .Select(g => Payloads.Alertmanager(Enumerable.Range(g * s.StormGroupSize, Math.Min(s.StormGroupSize, s.StormAlerts - g * s.StormGroupSize))
                    .Select(i => new Payloads.AlertSpec(BenchCluster.Namespace, BenchCluster.StormName(i % s.StormWorkloads), Payloads.Fingerprint(phase, i), i)).ToList()))
                .ToList();
            var random = new Random(42);
            var deliveries = Enumerable.Range(0, 3).SelectMany(_ => Enumerable.Range(0, groups.Count)).ToArray();
            random.Shuffle(deliveries);
            Console.WriteLine($"  {s.StormAlerts} alerts over {s.StormWorkloads} workloads, {groups.Count} groups of {s.StormGroupSize}, each delivered 3 times ({deliveries.Length} requests, {s.StormSenders} senders)");
            var started = Clock.Now;
            var next = -1;
            var failed = 0;
            await Task.WhenAll(Enumerable.Range(0, s.StormSenders).Select(sender => Task.Run(async () =>
            {
                int d;
                while ((d = Interlocked.Increment(ref next)) < deliveries.Length && !process.HasExited)
                {
                    // Like Alertmanager: a failed delivery is retried (backoff), so a 503 is not a loss.
                    var ok = false;
                    for (var attempt = 0; attempt < 10 && !ok; attempt++)
                    {
                        (ok, _) = await LoadGen.SendAsync(client, groups[deliveries[d]]).ConfigureAwait(false);
                        if (!ok)
                        {
                            await Task.Delay(200 * (attempt + 1)).ConfigureAwait(false);
                        }
                    }
                    if (!ok)
                    {
                        Interlocked.Increment(ref failed);
                    }
                }
            }))).ConfigureAwait(false);
            var ingestSeconds = Clock.Ms(started, Clock.Now) / 1000.0;
            if (process.HasExited)
            {
                throw new InvalidOperationException($"the host process exited during the storm (exit code {process.ExitCode})");
            }
            Console.WriteLine($"    delivered in {ingestSeconds:F1} s ({failed} failed after retries); draining...");

            var open = IncidentRowKeys.SummaryFilter + " and (State eq 'Received' or State eq 'Acting' or State eq 'Verifying')";
            var drained = false;
            var nonTerminal = -1;
            var total = 0;
            var timeout = Clock.After(started, TimeSpan.FromSeconds(s.StormTimeoutSeconds));
            // Polling must not load the storage it measures: a table scan under Azurite walks every row, so scan only
            // once the work queue is empty (its message count is one cheap call).
            var workQueue = new Azure.Storage.Queues.QueueServiceClient(azurite.ConnectionString).GetQueueClient("work-" + table);
            while (Clock.Now < timeout)
            {
                peak = ProcStatus.PeakRssMb(pid) ?? peak;
                if ((await workQueue.GetPropertiesAsync().ConfigureAwait(false)).Value.ApproximateMessagesCount > 0)
                {
                    await Task.Delay(250).ConfigureAwait(false);
                    continue;
                }
                nonTerminal = await CountAsync(storeTable, open).ConfigureAwait(false);
                if (nonTerminal == 0)
                {
                    total = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter).ConfigureAwait(false);
                    if (total >= s.StormAlerts)
                    {
                        drained = true;
                        break;
                    }
                }
                await Task.Delay(500).ConfigureAwait(false);
            }
            var drainSeconds = Clock.Ms(started, Clock.Now) / 1000.0;
            peak = ProcStatus.PeakRssMb(pid) ?? peak;
            total = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter).ConfigureAwait(false);
            var refused = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter + " and State eq 'Refused'").ConfigureAwait(false);
            var succeeded = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter + " and State eq 'Succeeded'").ConfigureAwait(false);
            var failures = await CountAsync(storeTable, IncidentRowKeys.SummaryFilter + " and State eq 'Failed'").ConfigureAwait(false);
            var states = new Dictionary<string, int>(StringComparer.Ordinal);
            var otherReasons = new Dictionary<string, int>(StringComparer.Ordinal);
            await foreach (var row in storeTable.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, maxPerPage: 1000, select: ["State", "OutcomeReason"]).ConfigureAwait(false))
            {
                var state = row.GetString("State") ?? "(none)";
                states[state] = states.GetValueOrDefault(state) + 1;
                if (state is not ("Refused" or "Succeeded"))
                {
                    var reason = $"{state}: {row.GetString("OutcomeReason")}";
                    otherReasons[reason] = otherReasons.GetValueOrDefault(reason) + 1;
                }
            }
            var stateText = string.Join(", ", states.OrderByDescending(kv => kv.Value).Select(kv => $"{kv.Value:N0} {kv.Key}"));
            Console.WriteLine($"    states: {stateText}");
            foreach (var (reason, count) in otherReasons.OrderByDescending(kv => kv.Value).Take(5))
            {
                Console.WriteLine($"      {count} × {reason}");
            }
            Console.WriteLine($"    {(drained ? "drained" : "NOT drained")} after {drainSeconds:F1} s: {total} incidents, {nonTerminal} not terminal");

            var mutating = cluster.Cluster.Requests.Skip(before)
                .Where(r => r.IsMutating && r.Namespace == BenchCluster.Namespace && r.Name?.StartsWith("storm-", StringComparison.Ordinal) == true).ToList();
            var perWorkload = mutating.GroupBy(r => r.Name).ToList();
            return new StormFigures(s.StormAlerts, deliveries.Length, failed, total, mutating.Count, perWorkload.Count(g => g.Count() == 1), refused, succeeded, failures,
                nonTerminal, ingestSeconds, drainSeconds, drained, peak, perWorkload.Count == 0 ? 0 : perWorkload.Max(g => g.Count()), stateText);
        }
        finally
        {
            await Hosts.StopProcessAsync(process).ConfigureAwait(false);
            File.Delete(policy);
        }
    }

    private static async Task<int> CountAsync(TableClient table, string filter)
    {
        var n = 0;
        await foreach (var _ in table.QueryAsync<TableEntity>(filter, maxPerPage: 1000, select: ["PartitionKey"]).ConfigureAwait(false))
        {
            n++;
        }
        return n;
    }

    /// <summary>Process start → first 200 on /healthz, for each published variant (ReadyToRun on/off), alternating runs.</summary>
    public static async Task<IReadOnlyList<StartupFigures>> StartupAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        var policy = await Hosts.WritePolicyAsync("startup", Hosts.ActingPolicy).ConfigureAwait(false);
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, "startup" + Environment.ProcessId, policy, worker: true);
        var figures = s.StartupVariants.Select(v => new StartupFigures(v.Name, v.Directory, new Samples())).ToList();
        try
        {
            for (var run = 0; run < s.StartupRuns + 1; run++)
            {
                foreach (var f in figures)
                {
                    var (process, _, ready) = await Hosts.StartProcessAsync(Path.Combine(f.Directory, "remediation.dll"), settings, TimeSpan.FromSeconds(60)).ConfigureAwait(false);
                    await Hosts.StopProcessAsync(process).ConfigureAwait(false);
                    if (run > 0)
                    {
                        // The first round only warms the OS file cache.
                        f.ReadyMs.Add(ready.TotalMilliseconds);
                    }
                }
            }
        }
        finally
        {
            File.Delete(policy);
        }
        foreach (var f in figures)
        {
            Console.WriteLine($"    {f.Variant}: median {f.ReadyMs.Percentile(50):F0} ms (n={f.ReadyMs.Count})");
        }
        return figures;
    }
}
