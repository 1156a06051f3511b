using System.Collections.Concurrent;
using System.Diagnostics;
using Azure.Data.Tables;
using k8s;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Storage;

namespace Remediation.Benchmarks;
public sealed record E2eFigures(int Incidents, int Acted, Samples EndToEnd, Samples ToMutation, Samples QueueWait, Samples Processing, Samples Limit,
    double MutatingPerRemediation, IReadOnlyList<string> ReadResources, string LimitComposition)
{
    public double Ratio => EndToEnd.Percentile(50) / Limit.Percentile(50);
    public double ProcessingRatio => Processing.Percentile(50) / Limit.Percentile(50);
}

/// <summary>End to end: alert received → outcome recorded, beside the physical limit.</summary>
public static partial class Phases
{
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
}
