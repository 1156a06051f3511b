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
    public double Ratio => EndToEnd.Percentile(50) / Reference.Percentile(50);
    public double TailRatio => EndToEnd.Percentile(99) / Reference.Percentile(99);
    public double ProcessingRatio => Processing.Percentile(50) / Reference.Percentile(50);
    public int Warmup { get; init; }
    public IReadOnlyList<E2eSegment> Segments { get; init; } = [];
    public IReadOnlyList<E2eTailIncident> Tail { get; init; } = [];
    public E2eRuntime? Runtime { get; init; }
    public int VerifyChecks { get; init; }
    public int Sweeps { get; init; }
    /// <summary>The same round trips issued during the run, paced at its rate (the targets' reference).</summary>
    public Samples? LoadedLimit { get; init; }
    public string? LoadedComposition { get; init; }
    /// <summary>The reference of the targets: the limit under the run's own load when measured, else the quiet one.</summary>
    public Samples Reference => LoadedLimit ?? Limit;
    /// <summary>During the run: each Kubernetes API request's wait for the simulator's lock, and the share of the time its controller loop held it.</summary>
    public Samples? SimulatorWaits { get; init; }
    public double SimulatorHeldShare { get; init; }
    public double SimulatorLongestPassMs { get; init; }
}

/// <summary>End to end: alert received → outcome recorded, beside the physical limit.</summary>
public static partial class Phases
{
    /// <summary>
    /// End-to-end latency per incident from the product's own spans (in-process host): remediation.ingest start (alert
    /// parsed) → remediation.act stop (mutating call acknowledged) → remediation.record stop (outcome row and summary
    /// written), cut into slices by the stage spans, beside the process's GC and thread-pool figures. The first
    /// <see cref="BenchSettings.E2eWarmup"/> incidents warm the host up and are not counted. Then the physical limit:
    /// the same round trips issued directly, one after another.
    /// </summary>
    public static async Task<E2eFigures> EndToEndAsync(AzuriteProcess azurite, BenchCluster cluster, BenchSettings s)
    {
        using var spans = new E2eSpans();
        var policy = await Hosts.WritePolicyAsync("e2e", Hosts.ActingPolicy).ConfigureAwait(false);
        var table = "e2e" + Environment.ProcessId;
        var (app, baseAddress) = await Hosts.StartInProcessAsync(Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, table, policy, worker: true)).ConfigureAwait(false);
        const int phase = 200;
        var total = s.E2eWarmup + s.E2eIncidents;
        var all = Enumerable.Range(0, total).Select(i => LoadGen.IncidentId(phase, i)).ToList();
        var ids = all.Skip(s.E2eWarmup).ToList();
        var before = cluster.Cluster.Requests.Count;
        var gateBefore = cluster.Cluster.GateStatistics();
        var gateClock = Stopwatch.StartNew();
        await using var runtime = new RuntimeSampler();
        E2eRuntime? runtimeFigures;
        Samples? simulatorWaits = null;
        double heldShare = double.NaN, longestPass = double.NaN;
        (Samples Samples, string Composition) loaded;
        try
        {
            using var client = Hosts.Client(baseAddress);
            var store = app.Services.GetRequiredService<IncidentStore>();
            Console.WriteLine($"  {s.E2eWarmup} warm-up + {s.E2eIncidents} measured incidents on distinct deployments, open loop {s.E2eRate}/s");
            // The physical limit under the same load: the same round trips, paced at the run's rate, on the warm-up
            // incidents' deployments (the measured incidents' own are left to the product).
            var loadedLimit = PhysicalLimitAsync(azurite, cluster, s.E2eIncidents, i => BenchCluster.E2eName(i % Math.Max(1, s.E2eWarmup)),
                TimeSpan.FromSeconds(1 / s.E2eRate), "limitload");
            var run = await LoadGen.OpenLoopAsync(client, "e2e", phase, s.E2eRate, total, BenchCluster.E2eName).ConfigureAwait(false);
            loaded = await loadedLimit.ConfigureAwait(false);
            if (run.Failed > 0)
            {
                Console.WriteLine($"    {run.Failed} deliveries failed");
            }
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < TimeSpan.FromSeconds(120) && all.Any(id => !spans.Has("remediation.process", id)))
            {
                await Task.Delay(100).ConfigureAwait(false);
            }
            runtimeFigures = await runtime.StopAsync().ConfigureAwait(false);
            var gateAfter = cluster.Cluster.GateStatistics();
            simulatorWaits = new Samples();
            foreach (var ms in gateAfter.ApiWaitsMs.Skip(gateBefore.ApiWaitsMs.Count))
            {
                simulatorWaits.Add(ms);
            }
            heldShare = (gateAfter.ControllerHeldMs - gateBefore.ControllerHeldMs) / gateClock.Elapsed.TotalMilliseconds;
            longestPass = gateAfter.ControllerLongestMs;
            Console.WriteLine($"    simulator: {simulatorWaits.Count} API requests waited for its lock p50 {simulatorWaits.Percentile(50):F1} ms, p99 {simulatorWaits.Percentile(99):F1} ms; its controller loop held the lock {heldShare:P0} of the time (longest pass {longestPass:F0} ms)");
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
        var mutating = requests.Where(r => r.IsMutating && r.Name?.StartsWith("e2e-", StringComparison.Ordinal) == true
            && r.Body?.Contains("bench/limit", StringComparison.Ordinal) != true).ToList();
        var readResources = requests.Where(r => r.Verb is "get" or "list").Select(r => $"{r.Verb} {r.Resource}").Distinct().Order().ToList();
        var figures = Measure(spans, runtime, ids);
        // Warm-up incidents act too: the calls are divided by every incident that acted.
        var actedAll = all.Count(id => spans.Has("remediation.act", id));
        var mutatingPer = actedAll == 0 ? double.NaN : (double)mutating.Count / actedAll;
        PrintBreakdown(figures.Segments, figures.Tail, runtimeFigures);

        Console.WriteLine("  physical limit: claim AddEntity + Kubernetes reads + intent AddEntity + patch + record AddEntity, issued directly and in sequence");
        var (limit, composition) = await PhysicalLimitAsync(azurite, cluster, s.E2eIncidents, BenchCluster.E2eName, null, "limit").ConfigureAwait(false);
        return figures with
        {
            Limit = limit, LimitComposition = composition, LoadedLimit = loaded.Samples, LoadedComposition = loaded.Composition, MutatingPerRemediation = mutatingPer, ReadResources = readResources, Warmup = s.E2eWarmup,
            SimulatorWaits = simulatorWaits, SimulatorHeldShare = heldShare, SimulatorLongestPassMs = longestPass,
            Runtime = runtimeFigures, VerifyChecks = spans.Background.Count(b => b.Name == "remediation.verify"), Sweeps = spans.Background.Count(b => b.Name == "remediation.sweep"),
        };
    }

    private static E2eFigures Measure(E2eSpans spans, RuntimeSampler runtime, List<string> ids)
    {
        var endToEnd = new Samples();
        var toMutation = new Samples();
        var queueWait = new Samples();
        var processing = new Samples();
        var segments = E2eBreakdown.Slices.Select(x => new E2eSegment(x.Name, x.Spans, new Samples())).ToList();
        var sliced = new List<(string, double[])>();
        foreach (var id in ids)
        {
            if (!spans.TryGet("remediation.ingest", id, out var ingest) || !spans.TryGet("remediation.process", id, out var process))
            {
                continue;
            }
            // The end point is the outcome row written (the "record" stage); what follows it in the worker (scheduling the
            // first verification check, notifications) is not on the path the issue measures.
            var recorded = spans.TryGet("remediation.record", id, out var record) ? record.End : process.End;
            endToEnd.Add((recorded - ingest.Start).TotalMilliseconds);
            queueWait.Add((process.Start - ingest.End).TotalMilliseconds);
            processing.Add((recorded - process.Start).TotalMilliseconds);
            if (spans.TryGet("remediation.act", id, out var act))
            {
                toMutation.Add((act.End - ingest.Start).TotalMilliseconds);
            }
            if (E2eBreakdown.Of(spans, id) is { } slices)
            {
                sliced.Add((id, slices));
                for (var i = 0; i < slices.Length; i++)
                {
                    segments[i].Ms.Add(slices[i]);
                }
            }
        }
        return new E2eFigures(ids.Count, toMutation.Count, endToEnd, toMutation, queueWait, processing, new Samples(), double.NaN, [], "")
        {
            Segments = segments,
            Tail = E2eBreakdown.Tail(spans, runtime, sliced, 5),
        };
    }

    private static void PrintBreakdown(IReadOnlyList<E2eSegment> segments, IReadOnlyList<E2eTailIncident> tail, E2eRuntime? runtime)
    {
        foreach (var seg in segments)
        {
            Console.WriteLine($"    {seg.Name,-32} p50 {seg.Ms.Percentile(50),7:F1} ms  p99 {seg.Ms.Percentile(99),7:F1} ms  max {seg.Ms.Percentile(100),7:F1} ms");
        }
        foreach (var t in tail)
        {
            Console.WriteLine($"    tail {t.Incident}: {t.EndToEndMs:F1} ms = [{string.Join(", ", t.SegmentMs.Select(x => x.ToString("F0", System.Globalization.CultureInfo.InvariantCulture)))}]; verify {t.VerifyChecksOverlapping}, sweeps {t.SweepsOverlapping}, GC {t.GcPauseMs:F1} ms, pending {t.MaxPendingWorkItems}");
        }
        if (runtime is { } r)
        {
            Console.WriteLine($"    GC gen0/1/2 {r.Gen0}/{r.Gen1}/{r.Gen2}, pause {r.GcPauseMs:F1} ms; thread pool pending p99 {r.PendingP99}, max {r.PendingMax}; threads max {r.ThreadsMax}");
        }
    }

    /// <summary>
    /// The unavoidable round trips of one remediation, issued directly: <paramref name="count"/> times on
    /// <paramref name="deploymentName"/>(i), one after another, at most one start per <paramref name="pace"/> when given.
    /// </summary>
    private static async Task<(Samples, string)> PhysicalLimitAsync(AzuriteProcess azurite, BenchCluster cluster, int count, Func<int, string> deploymentName,
        TimeSpan? pace, string tableName)
    {
        var table = new TableServiceClient(azurite.ConnectionString).GetTableClient(tableName + Environment.ProcessId);
        await table.CreateIfNotExistsAsync().ConfigureAwait(false);
        var k8s = cluster.Client;
        var alertJson = new string('x', 900);
        var samples = new Samples();
        // The reads are the diagnosis's least (the pod's own warnings, as the product lists them); the intent row before the
        // mutation and the outcome after it are what every remediation must record.
        string[] names = ["AddEntity(claim)", "GET deployment", "LIST replicasets", "LIST pods", "LIST the pod's warning events", "AddEntity(intent)", "PATCH deployment", "AddEntity(outcome)"];
        var steps = names.Select(_ => new Samples()).ToArray();
        var paced = Clock.Now;
        // One untimed round to open the connections, as the product's pooled clients are.
        for (var i = -1; i < count; i++)
        {
            if (pace is { } every && i > 0)
            {
                await Clock.UntilAsync(Clock.After(paced, every)).ConfigureAwait(false);
            }
            paced = Clock.Now;
            var name = deploymentName(Math.Max(i, 0));
            var key = "limit-" + (i + 1).ToString(System.Globalization.CultureInfo.InvariantCulture);
            var marks = new long[names.Length + 1];
            marks[0] = Clock.Now;
            await table.AddEntityAsync(new TableEntity(key, IncidentRowKeys.For(IncidentRowKeys.Summary, key)) { ["State"] = "Received", ["AlertJson"] = alertJson }).ConfigureAwait(false);
            marks[1] = Clock.Now;
            var deployment = await k8s.AppsV1.ReadNamespacedDeploymentAsync(name, BenchCluster.Namespace).ConfigureAwait(false);
            marks[2] = Clock.Now;
            var selector = string.Join(",", deployment.Spec.Selector.MatchLabels.Select(l => $"{l.Key}={l.Value}"));
            await k8s.AppsV1.ListNamespacedReplicaSetAsync(BenchCluster.Namespace, labelSelector: selector).ConfigureAwait(false);
            marks[3] = Clock.Now;
            var pods = await k8s.CoreV1.ListNamespacedPodAsync(BenchCluster.Namespace, labelSelector: selector).ConfigureAwait(false);
            marks[4] = Clock.Now;
            var pod = pods.Items.Count > 0 ? pods.Items[0].Metadata.Name : name;
            await k8s.CoreV1.ListNamespacedEventAsync(BenchCluster.Namespace, fieldSelector: Remediation.Kubernetes.KubernetesClusterReader.PodWarningEventsSelector(pod),
                limit: Remediation.Diagnosis.WorkloadView.EventsPerPod)
                .ConfigureAwait(false);
            marks[5] = Clock.Now;
            await table.AddEntityAsync(new TableEntity(key, "intent") { ["Action"] = "restart", ["PriorStateJson"] = alertJson }).ConfigureAwait(false);
            marks[6] = Clock.Now;
            await PatchAsync(k8s, name, key, deployment.Metadata.ResourceVersion).ConfigureAwait(false);
            marks[7] = Clock.Now;
            await table.AddEntityAsync(new TableEntity(key, "outcome") { ["Outcome"] = "Verifying", ["Reason"] = "limit" }).ConfigureAwait(false);
            marks[8] = Clock.Now;
            if (i >= 0)
            {
                samples.Add(Clock.Ms(marks[0], marks[8]));
                for (var k = 0; k < names.Length; k++)
                {
                    steps[k].Add(Clock.Ms(marks[k], marks[k + 1]));
                }
            }
        }
        var composition = string.Join(" + ", names.Select((n, k) => string.Create(System.Globalization.CultureInfo.InvariantCulture, $"{n} (p50 {steps[k].Percentile(50):F1} ms, p99 {steps[k].Percentile(99):F1} ms)")));
        Console.WriteLine($"    limit: {composition}");
        return (samples, composition);
    }

    /// <summary>
    /// The restart patch, conditional on the resourceVersion read (as the product's is). Under load the controller loop or
    /// the product may change the object in between: on 409 it is read again and patched again, and the time counts.
    /// </summary>
    private static async Task PatchAsync(IKubernetes k8s, string name, string key, string resourceVersion)
    {
        for (var attempt = 1; ; attempt++)
        {
            var patch = $"{{\"metadata\":{{\"resourceVersion\":\"{resourceVersion}\"}},\"spec\":{{\"template\":{{\"metadata\":{{\"annotations\":{{\"bench/limit\":\"{key}\"}}}}}}}}}}";
            try
            {
                await k8s.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(patch, V1Patch.PatchType.MergePatch), name, BenchCluster.Namespace).ConfigureAwait(false);
                return;
            }
            catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.Conflict && attempt < 10)
            {
                resourceVersion = (await k8s.AppsV1.ReadNamespacedDeploymentAsync(name, BenchCluster.Namespace).ConfigureAwait(false)).Metadata.ResourceVersion;
            }
        }
    }
}
