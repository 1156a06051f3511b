using Remediation.Alerts;
using Remediation.ServiceGraph;

namespace Remediation.Metrics;

/// <summary>
/// The mesh graph from Istio's standard metrics in Prometheus. Two hops around the center: its in- and out-edges, then
/// those of its neighbours, plus every edge into a node of the subgraph (so a callee is judged over all its callers).
/// Per edge it prefers what the caller's sidecar reported (reporter="source"), and the destination's report for callers
/// outside the mesh (source "unknown"), as Kiali does. Prometheus that cannot be read gives an unreadable result.
/// </summary>
public sealed class PrometheusServiceGraphSource(PrometheusClient prometheus, TimeSpan? baselineOffset = null) : IServiceGraphSource
{
    private const string EdgeLabels = "source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, reporter";
    private const string Requests = "istio_requests_total";
    private const string Buckets = "istio_request_duration_milliseconds_bucket";

    private readonly TimeSpan _baselineOffset = baselineOffset ?? TimeSpan.FromHours(1);

    private readonly record struct EdgeKey(WorkloadId Source, WorkloadId Destination, string Reporter);

    public async Task<GraphReading> ReadAsync(WorkloadId center, TimeSpan window, CancellationToken cancellationToken = default)
    {
        if (!KubernetesNames.IsLabel(center.Namespace) || !KubernetesNames.IsSubdomain(center.Name))
        {
            throw new ArgumentException($"workload {KubernetesNames.Quote(center.ToString())} is not a namespace and a Kubernetes object name", nameof(center));
        }

        if (window < TimeSpan.FromSeconds(1))
        {
            throw new ArgumentOutOfRangeException(nameof(window), "the window must be at least one second");
        }

        try
        {
            var hop1 = await WithNeighboursAsync([center], window, cancellationToken).ConfigureAwait(false);
            var hop2 = await WithNeighboursAsync(hop1, window, cancellationToken).ConfigureAwait(false);
            var edges = await EdgesAsync(hop2, hop1, window, cancellationToken).ConfigureAwait(false);
            return GraphReading.Of(new MeshGraph(center, window, edges));
        }
        catch (Exception ex) when (ex is HttpRequestException or PrometheusQueryException or TimeoutException
            || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            return GraphReading.Failed($"Prometheus at {prometheus.BaseUrl} could not be read: {MetricsFailure.Describe(ex)}");
        }
    }

    /// <summary>The workloads plus every workload that calls one of them or is called by one of them.</summary>
    private async Task<List<WorkloadId>> WithNeighboursAsync(List<WorkloadId> workloads, TimeSpan window, CancellationToken cancellationToken)
    {
        var rates = await QueryEdgesAsync(Sum(Requests, "", workloads, workloads, window, null), cancellationToken).ConfigureAwait(false);
        return rates.Keys.SelectMany(k => new[] { k.Source, k.Destination }).Where(w => !w.IsUnknown).Concat(workloads).Distinct().ToList();
    }

    private async Task<List<GraphEdge>> EdgesAsync(List<WorkloadId> destinations, List<WorkloadId> sources, TimeSpan window, CancellationToken cancellationToken)
    {
        var total = QueryEdgesAsync(Sum(Requests, "", destinations, sources, window, null), cancellationToken);
        var server = QueryEdgesAsync(Sum(Requests, ",response_code=~\"5..\"", destinations, sources, window, null), cancellationToken);
        var client = QueryEdgesAsync(Sum(Requests, ",response_code=~\"4..\"", destinations, sources, window, null), cancellationToken);
        var grpc = QueryEdgesAsync(Sum(Requests, ",grpc_response_status=~\"[1-9]|1[0-6]\"", destinations, sources, window, null), cancellationToken);
        var p99 = QueryEdgesAsync(P99(destinations, sources, window), cancellationToken);
        var baseline = QueryEdgesAsync(Sum(Requests, "", destinations, sources, window, _baselineOffset), cancellationToken);
        await Task.WhenAll(total, server, client, grpc, p99, baseline).ConfigureAwait(false);

        var edges = new List<GraphEdge>();
        foreach (var group in (await total.ConfigureAwait(false)).GroupBy(p => (p.Key.Source, p.Key.Destination)))
        {
            var reported = group.ToDictionary(p => p.Key.Reporter, p => p.Key, StringComparer.Ordinal);
            var reporter = !group.Key.Source.IsUnknown && reported.ContainsKey("source") ? "source" : reported.ContainsKey("destination") ? "destination" : reported.Keys.First();
            var key = reported[reporter];
            var rps = group.First(p => p.Key.Reporter == reporter).Value;
            double Ratio(Dictionary<EdgeKey, double> part) => rps > 0 && part.TryGetValue(key, out var v) ? Math.Clamp(v / rps, 0, 1) : 0;
            var stats = new EdgeStats(rps, Ratio(await server.ConfigureAwait(false)), Ratio(await client.ConfigureAwait(false)), Ratio(await grpc.ConfigureAwait(false)),
                (await p99.ConfigureAwait(false)).TryGetValue(key, out var l) ? l : null,
                (await baseline.ConfigureAwait(false)).TryGetValue(key, out var b) ? b : null);
            edges.Add(new GraphEdge(key.Source, key.Destination, stats, reporter));
        }

        return edges.OrderBy(e => e.Source.ToString(), StringComparer.Ordinal).ThenBy(e => e.Destination.ToString(), StringComparer.Ordinal).ToList();
    }

    private async Task<Dictionary<EdgeKey, double>> QueryEdgesAsync(string promql, CancellationToken cancellationToken)
    {
        var result = await prometheus.QueryAsync(promql, cancellationToken: cancellationToken).ConfigureAwait(false);
        var map = new Dictionary<EdgeKey, double>();
        foreach (var s in result.Series)
        {
            var source = Workload(s.Label("source_workload_namespace"), s.Label("source_workload"));
            var destination = Workload(s.Label("destination_workload_namespace"), s.Label("destination_workload"));
            if (source is { } src && destination is { } dst && !dst.IsUnknown && double.IsFinite(s.Value))
            {
                map[new EdgeKey(src, dst, s.Label("reporter"))] = s.Value;
            }
        }

        return map;
    }

    /// <summary>A workload named by the telemetry; names that break the Kubernetes rules are left out of the graph (never queried).</summary>
    private static WorkloadId? Workload(string @namespace, string name)
    {
        if (name is "" or "unknown")
        {
            return WorkloadId.Unknown;
        }

        return KubernetesNames.IsLabel(@namespace) && KubernetesNames.IsSubdomain(name) ? new WorkloadId(@namespace, name) : null;
    }

    /// <summary>
    /// The per-edge request rate of the edges into <paramref name="destinations"/> or out of <paramref name="sources"/>: one
    /// sum per namespace and direction, joined with <c>or</c> (an edge matched twice has the same label set, so it is kept once).
    /// </summary>
    public static string Sum(string metric, string extra, IReadOnlyCollection<WorkloadId> destinations, IReadOnlyCollection<WorkloadId> sources, TimeSpan window,
        TimeSpan? offset) =>
        string.Join(" or ", Selectors(destinations, sources).Select(selector =>
            $"sum by ({EdgeLabels}) (rate({metric}{{{selector}{extra}}}[{IstioSignals.Duration(window)}]{Offset(offset)}))"));

    public static string P99(IReadOnlyCollection<WorkloadId> destinations, IReadOnlyCollection<WorkloadId> sources, TimeSpan window) =>
        string.Join(" or ", Selectors(destinations, sources).Select(selector =>
            $"histogram_quantile(0.99, sum by (le, {EdgeLabels}) (rate({Buckets}{{{selector}}}[{IstioSignals.Duration(window)}])))"));

    private static IEnumerable<string> Selectors(IReadOnlyCollection<WorkloadId> destinations, IReadOnlyCollection<WorkloadId> sources) =>
        Matchers("destination", destinations).Concat(Matchers("source", sources));

    private static IEnumerable<string> Matchers(string side, IReadOnlyCollection<WorkloadId> workloads) =>
        workloads.Where(w => !w.IsUnknown).GroupBy(w => w.Namespace).OrderBy(g => g.Key, StringComparer.Ordinal).Select(g =>
            $"{side}_workload_namespace=\"{Quote(g.Key)}\",{side}_workload=~\"{string.Join("|", g.Select(w => Quote(w.Name).Replace(".", "\\\\.", StringComparison.Ordinal)).Distinct().Order(StringComparer.Ordinal))}\"");

    /// <summary>Only RFC 1123 names reach a matcher ([a-z0-9.-]); anything else is refused rather than escaped.</summary>
    private static string Quote(string name) =>
        KubernetesNames.IsSubdomain(name) ? name : throw new ArgumentException($"{KubernetesNames.Quote(name)} is not {KubernetesNames.SubdomainRule}", nameof(name));

    private static string Offset(TimeSpan? offset) => offset is { } o && o > TimeSpan.Zero ? " offset " + IstioSignals.Duration(o) : "";
}
