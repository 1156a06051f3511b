using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Api;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator.Sim;

/// <summary>Simulated Istio telemetry and kube-state-metrics. Call under the gate.</summary>
internal sealed partial class TrafficMetrics
{
    public static readonly double[] Buckets = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000, 60000, 300000, 600000, 1800000, 3600000];

    private readonly ClusterCore _core;
    private readonly SortedDictionary<string, Series> _series = new(StringComparer.Ordinal);
    private DateTimeOffset? _last;

    public TrafficMetrics(ClusterCore core) => _core = core;

    private sealed class Series
    {
        public double Count;
        public double Sum;
        public double[] Buckets = new double[TrafficMetrics.Buckets.Length];
    }

    private sealed record Share(JsonObject Deployment, double Fraction, string ServiceName, string ServiceNamespace);

    public void Start(DateTimeOffset now) => _last ??= now;

    /// <summary>Accumulates traffic from the last call up to now with the current routing state.</summary>
    public void Advance()
    {
        if (_core.NowOverride is not null)
        {
            return;
        }

        var now = _core.Now;
        if (_last is null)
        {
            _last = now;
            return;
        }

        var dt = (now - _last.Value).TotalSeconds;
        if (dt <= 0)
        {
            return;
        }

        _last = now;
        foreach (var flow in Flows())
        {
            foreach (var share in Resolve(flow))
            {
                Accumulate(flow, share, flow.RequestsPerSecond * share.Fraction * dt);
            }
        }
    }

    private IEnumerable<TrafficSpec> Flows()
    {
        var explicitServices = new HashSet<string>(StringComparer.Ordinal);
        foreach (var t in _core.Traffic)
        {
            if (t.Service is not null)
            {
                explicitServices.Add($"{t.Namespace}/{t.Service}");
            }

            yield return t;
        }

        foreach (var svc in _core.Store.List(Resources.Services))
        {
            var key = $"{J.Namespace(svc)}/{J.Name(svc)}";
            if (explicitServices.Contains(key))
            {
                continue;
            }

            var rps = Backing(svc).Select(d => _core.BehaviourFor(FirstImage(d)).RequestsPerSecond).Sum();
            if (rps > 0)
            {
                yield return new TrafficSpec { Service = J.Name(svc), Namespace = J.Namespace(svc), RequestsPerSecond = rps };
            }
        }
    }

    private static string? FirstImage(JsonObject deployment) =>
        (J.At(deployment, "spec", "template", "spec", "containers") as JsonArray)?.Select(c => J.Str(c, "image")).FirstOrDefault();

    private List<JsonObject> Backing(JsonObject svc, IReadOnlyDictionary<string, string>? extraLabels = null)
    {
        var selector = J.StringMap(J.At(svc, "spec", "selector"));
        if (selector.Count == 0)
        {
            return [];
        }

        return _core.Store.List(Resources.Deployments, J.Namespace(svc)).Where(d =>
        {
            var labels = J.StringMap(J.At(d, "spec", "template", "metadata", "labels"));
            return selector.All(p => labels.TryGetValue(p.Key, out var v) && v == p.Value)
                && (extraLabels is null || extraLabels.All(p => labels.TryGetValue(p.Key, out var v) && v == p.Value));
        }).ToList();
    }

    private List<JsonObject> ReadyPods(JsonObject deployment)
    {
        var selector = LabelSelector.FromObject(J.At(deployment, "spec", "selector"));
        return _core.Store.List(Resources.Pods, J.Namespace(deployment)).Where(p => selector.Matches(p) && Controllers.PodReady(p)).ToList();
    }

    private IEnumerable<Share> Resolve(TrafficSpec flow)
    {
        if (flow.HttpRoute is not null)
        {
            var route = _core.Store.Get(Resources.HttpRoutes, flow.Namespace, flow.HttpRoute);
            var refs = (J.At(route, "spec", "rules") as JsonArray)?.FirstOrDefault()?["backendRefs"] as JsonArray;
            if (refs is null)
            {
                yield break;
            }

            var weights = refs.Select(r => J.Num(r, "weight") ?? 1).ToList();
            var total = weights.Sum();
            if (total <= 0)
            {
                yield break;
            }

            for (var i = 0; i < refs.Count; i++)
            {
                var ns = J.Str(refs[i], "namespace") ?? flow.Namespace;
                foreach (var s in ResolveService(ns, J.Str(refs[i], "name") ?? "", useVirtualService: true))
                {
                    yield return s with { Fraction = s.Fraction * weights[i] / total };
                }
            }

            yield break;
        }

        foreach (var s in ResolveService(flow.Namespace, flow.Service ?? "", useVirtualService: true))
        {
            yield return s;
        }
    }

    private static bool HostMatches(string host, string service, string ns) =>
        host == service || host == $"{service}.{ns}" || host == $"{service}.{ns}.svc" || host == $"{service}.{ns}.svc.cluster.local";

    private static string ShortHost(string host) => host.Split('.')[0];

    private IEnumerable<Share> ResolveService(string ns, string name, bool useVirtualService)
    {
        var svc = _core.Store.Get(Resources.Services, ns, name);
        if (svc is null)
        {
            yield break;
        }

        var vs = useVirtualService
            ? _core.Store.List(Resources.VirtualServices, ns).FirstOrDefault(v => (J.At(v, "spec", "hosts") as JsonArray)?.Any(h => HostMatches(h?.GetValue<string>() ?? "", name, ns)) == true)
            : null;
        if (vs is not null && (J.At(vs, "spec", "http") as JsonArray)?.FirstOrDefault()?["route"] is JsonArray routes && routes.Count > 0)
        {
            var weights = routes.Select(r => J.Num(r, "weight") ?? (routes.Count == 1 ? 100 : 0)).ToList();
            var total = weights.Sum();
            if (total <= 0)
            {
                yield break;
            }

            for (var i = 0; i < routes.Count; i++)
            {
                if (weights[i] <= 0)
                {
                    continue;
                }

                var host = J.Str(routes[i], "destination", "host") ?? name;
                var destName = ShortHost(host);
                var destSvc = _core.Store.Get(Resources.Services, ns, destName) ?? svc;
                var subset = J.Str(routes[i], "destination", "subset");
                SortedDictionary<string, string>? subsetLabels = null;
                if (subset is not null)
                {
                    var dr = _core.Store.List(Resources.DestinationRules, ns).FirstOrDefault(r => HostMatches(J.Str(r, "spec", "host") ?? "", destName, ns));
                    var s = (J.At(dr, "spec", "subsets") as JsonArray)?.FirstOrDefault(x => J.Str(x, "name") == subset);
                    subsetLabels = J.StringMap(J.At(s, "labels"));
                }

                var workloads = Backing(destSvc, subsetLabels);
                foreach (var w in workloads)
                {
                    yield return new Share(w, weights[i] / total / workloads.Count, J.Name(destSvc), ns);
                }
            }

            yield break;
        }

        var backing = Backing(svc);
        var ready = backing.Where(d => ReadyPods(d).Count > 0).ToList();
        var candidates = ready.Count > 0 ? ready : backing;
        var versions = candidates.GroupBy(d => J.Str(d, "spec", "template", "metadata", "labels", "version") ?? "unknown").ToList();
        foreach (var group in versions)
        {
            var members = group.ToList();
            foreach (var d in members)
            {
                yield return new Share(d, 1.0 / versions.Count / members.Count, name, ns);
            }
        }
    }

    private void Accumulate(TrafficSpec flow, Share share, double requests) =>
        Accumulate(new Caller(flow.Source, flow.SourceNamespace ?? flow.Namespace, InMesh: false, "http"), share, requests, depth: 0);

    private void Accumulate(Caller caller, Share share, double requests, int depth)
    {
        if (requests <= 0)
        {
            return;
        }

        var d = share.Deployment;
        var pods = ReadyPods(d);
        var labels = J.StringMap(J.At(d, "spec", "template", "metadata", "labels"));
        var app = labels.GetValueOrDefault("app") ?? J.Name(d);
        var version = labels.GetValueOrDefault("version") ?? "unknown";
        var baseLabels = new List<(string, string)>
        {
            ("reporter", "destination"),
            ("source_workload", caller.Workload),
            ("source_workload_namespace", caller.Namespace),
            ("source_app", caller.Workload),
            ("destination_workload", J.Name(d)),
            ("destination_workload_namespace", J.Namespace(d)),
            ("destination_service", $"{share.ServiceName}.{share.ServiceNamespace}.svc.cluster.local"),
            ("destination_service_name", share.ServiceName),
            ("destination_service_namespace", share.ServiceNamespace),
            ("destination_app", app),
            ("destination_version", version),
            ("destination_canonical_service", app),
            ("destination_canonical_revision", version),
            ("request_protocol", caller.Protocol),
            ("connection_security_policy", "mutual_tls"),
        };

        if (pods.Count == 0)
        {
            AddReported(caller, baseLabels, failed: true, "UH", requests, 1, 5);
            return;
        }

        var downstream = Downstream(d, depth);
        foreach (var pod in pods)
        {
            var b = _core.BehaviourFor(ServingImage(pod));
            var r = requests / pods.Count;
            var err = Math.Min(1, Math.Clamp(b.ErrorRatio, 0, 1) + downstream.ErrorRatio);
            AddReported(caller, baseLabels, failed: false, "-", r * (1 - err), b.P50Ms + downstream.P50Ms, b.P99Ms + downstream.P99Ms);
            AddReported(caller, baseLabels, failed: true, "-", r * err, b.P50Ms + downstream.P50Ms, b.P99Ms + downstream.P99Ms);
        }

        CallOut(d, requests, depth);
    }

    /// <summary>
    /// One series per reporter: a caller in the mesh has a sidecar that reports the request too (reporter="source"), like
    /// real Istio; traffic from outside the mesh is reported by the destination only. gRPC failures are HTTP 200 with a
    /// non-zero grpc_response_status (14, unavailable).
    /// </summary>
    private void AddReported(Caller caller, List<(string Key, string Value)> baseLabels, bool failed, string flags, double requests, double p50, double p99)
    {
        var grpc = caller.Protocol == "grpc";
        var code = grpc ? "200" : failed ? "503" : "200";
        string? grpcStatus = grpc ? (failed ? "14" : "0") : null;
        Add(baseLabels, code, flags, requests, p50, p99, grpcStatus);
        if (caller.InMesh)
        {
            var sourceLabels = baseLabels.ToList();
            sourceLabels[0] = ("reporter", "source");
            Add(sourceLabels, code, flags, requests, p50, p99, grpcStatus);
        }
    }

    private static string? ServingImage(JsonObject pod) =>
        (J.At(pod, "spec", "containers") as JsonArray)?.Select(c => J.Str(c, "image")).FirstOrDefault(i => i is not null && !i.Contains("proxyv2", StringComparison.Ordinal));

    private void Add(List<(string Key, string Value)> baseLabels, string code, string flags, double requests, double p50, double p99, string? grpcStatus = null)
    {
        if (requests <= 0)
        {
            return;
        }

        var sb = new StringBuilder();
        foreach (var (k, v) in baseLabels)
        {
            sb.Append(k).Append("=\"").Append(Escape(v)).Append("\",");
        }

        sb.Append("response_code=\"").Append(code).Append("\",response_flags=\"").Append(flags).Append('"');
        if (grpcStatus is not null)
        {
            sb.Append(",grpc_response_status=\"").Append(grpcStatus).Append('"');
        }

        var key = sb.ToString();
        if (!_series.TryGetValue(key, out var s))
        {
            s = new Series();
            _series[key] = s;
        }

        p50 = Math.Max(p50, 0.01);
        p99 = Math.Max(p99, p50 * 1.0001);
        var sigma = Math.Log(p99 / p50) / 2.3263478740408408;
        s.Count += requests;
        s.Sum += requests * p50 * Math.Exp(sigma * sigma / 2);
        for (var i = 0; i < Buckets.Length; i++)
        {
            s.Buckets[i] += requests * NormalCdf((Math.Log(Buckets[i]) - Math.Log(p50)) / sigma);
        }
    }

    private static string Escape(string v) => v.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal);

    private static double NormalCdf(double x) => 0.5 * (1 + Erf(x / Math.Sqrt(2)));

    private static double Erf(double x)
    {
        // Abramowitz & Stegun 7.1.26
        var sign = Math.Sign(x);
        x = Math.Abs(x);
        const double a1 = 0.254829592, a2 = -0.284496736, a3 = 1.421413741, a4 = -1.453152027, a5 = 1.061405429, p = 0.3275911;
        var t = 1.0 / (1.0 + (p * x));
        var y = 1.0 - ((((((((a5 * t) + a4) * t) + a3) * t) + a2) * t) + a1) * t * Math.Exp(-x * x);
        return sign * y;
    }

    private static string N(double v) => Math.Floor(v).ToString("0", CultureInfo.InvariantCulture);

    public string Render()
    {
        Advance();
        var sb = new StringBuilder();
        sb.Append("# HELP istio_requests_total Total requests.\n# TYPE istio_requests_total counter\n");
        foreach (var (labels, s) in _series)
        {
            sb.Append("istio_requests_total{").Append(labels).Append("} ").Append(N(s.Count)).Append('\n');
        }

        sb.Append("# HELP istio_request_duration_milliseconds Request duration in milliseconds.\n# TYPE istio_request_duration_milliseconds histogram\n");
        foreach (var (labels, s) in _series)
        {
            var count = Math.Floor(s.Count);
            for (var i = 0; i < Buckets.Length; i++)
            {
                var le = Buckets[i].ToString("0.###", CultureInfo.InvariantCulture);
                sb.Append("istio_request_duration_milliseconds_bucket{").Append(labels).Append(",le=\"").Append(le).Append("\"} ")
                    .Append(N(Math.Min(s.Buckets[i], count))).Append('\n');
            }

            sb.Append("istio_request_duration_milliseconds_bucket{").Append(labels).Append(",le=\"+Inf\"} ").Append(N(count)).Append('\n');
            sb.Append("istio_request_duration_milliseconds_sum{").Append(labels).Append("} ").Append(s.Sum.ToString("0.###", CultureInfo.InvariantCulture)).Append('\n');
            sb.Append("istio_request_duration_milliseconds_count{").Append(labels).Append("} ").Append(N(count)).Append('\n');
        }

        RenderKubeState(sb);
        return sb.ToString();
    }

    private void RenderKubeState(StringBuilder sb)
    {
        var pods = _core.Store.List(Resources.Pods);
        var restarts = new StringBuilder();
        var waiting = new StringBuilder();
        var terminated = new StringBuilder();
        var ready = new StringBuilder();
        var phase = new StringBuilder();
        foreach (var pod in pods)
        {
            var ns = Escape(J.Namespace(pod));
            var name = Escape(J.Name(pod));
            var p = J.Str(pod, "status", "phase") ?? "Pending";
            foreach (var ph in new[] { "Pending", "Running", "Succeeded", "Failed", "Unknown" })
            {
                phase.Append($"kube_pod_status_phase{{namespace=\"{ns}\",pod=\"{name}\",phase=\"{ph}\"}} {(ph == p ? 1 : 0)}\n");
            }

            if (J.At(pod, "status", "containerStatuses") is not JsonArray statuses)
            {
                continue;
            }

            foreach (var cs in statuses.OfType<JsonObject>())
            {
                var c = Escape(J.Str(cs, "name") ?? "");
                var labels = $"namespace=\"{ns}\",pod=\"{name}\",container=\"{c}\"";
                restarts.Append($"kube_pod_container_status_restarts_total{{{labels}}} {J.Long(cs, "restartCount") ?? 0}\n");
                ready.Append($"kube_pod_container_status_ready{{{labels}}} {(J.Bool(cs, "ready") == true ? 1 : 0)}\n");
                if (J.Str(cs, "state", "waiting", "reason") is { } reason)
                {
                    waiting.Append($"kube_pod_container_status_waiting_reason{{{labels},reason=\"{Escape(reason)}\"}} 1\n");
                }

                if (J.Str(cs, "lastState", "terminated", "reason") is { } term)
                {
                    terminated.Append($"kube_pod_container_status_last_terminated_reason{{{labels},reason=\"{Escape(term)}\"}} 1\n");
                }
            }
        }

        sb.Append("# HELP kube_pod_container_status_restarts_total The number of container restarts per container.\n# TYPE kube_pod_container_status_restarts_total counter\n").Append(restarts);
        sb.Append("# HELP kube_pod_container_status_waiting_reason Describes the reason the container is currently in waiting state.\n# TYPE kube_pod_container_status_waiting_reason gauge\n").Append(waiting);
        sb.Append("# HELP kube_pod_container_status_last_terminated_reason Describes the last reason the container was in terminated state.\n# TYPE kube_pod_container_status_last_terminated_reason gauge\n").Append(terminated);
        sb.Append("# HELP kube_pod_container_status_ready Describes whether the containers readiness check succeeded.\n# TYPE kube_pod_container_status_ready gauge\n").Append(ready);
        sb.Append("# HELP kube_pod_status_phase The pods current phase.\n# TYPE kube_pod_status_phase gauge\n").Append(phase);

        sb.Append("# HELP kube_deployment_spec_replicas Number of desired pods for a deployment.\n# TYPE kube_deployment_spec_replicas gauge\n");
        var deployments = _core.Store.List(Resources.Deployments);
        foreach (var d in deployments)
        {
            sb.Append($"kube_deployment_spec_replicas{{namespace=\"{Escape(J.Namespace(d))}\",deployment=\"{Escape(J.Name(d))}\"}} {J.Long(d, "spec", "replicas") ?? 1}\n");
        }

        sb.Append("# HELP kube_deployment_status_replicas_available The number of available replicas per deployment.\n# TYPE kube_deployment_status_replicas_available gauge\n");
        foreach (var d in deployments)
        {
            sb.Append($"kube_deployment_status_replicas_available{{namespace=\"{Escape(J.Namespace(d))}\",deployment=\"{Escape(J.Name(d))}\"}} {J.Long(d, "status", "availableReplicas") ?? 0}\n");
        }

        sb.Append("# HELP kube_deployment_status_replicas_unavailable The number of unavailable replicas per deployment.\n# TYPE kube_deployment_status_replicas_unavailable gauge\n");
        foreach (var d in deployments)
        {
            sb.Append($"kube_deployment_status_replicas_unavailable{{namespace=\"{Escape(J.Namespace(d))}\",deployment=\"{Escape(J.Name(d))}\"}} {J.Long(d, "status", "unavailableReplicas") ?? 0}\n");
        }

        var hpas = _core.Store.List(Resources.Hpas);
        sb.Append("# HELP kube_horizontalpodautoscaler_status_current_replicas Current number of replicas of pods managed by this autoscaler.\n# TYPE kube_horizontalpodautoscaler_status_current_replicas gauge\n");
        foreach (var h in hpas)
        {
            sb.Append($"kube_horizontalpodautoscaler_status_current_replicas{{namespace=\"{Escape(J.Namespace(h))}\",horizontalpodautoscaler=\"{Escape(J.Name(h))}\"}} {J.Long(h, "status", "currentReplicas") ?? 0}\n");
        }

        sb.Append("# HELP kube_horizontalpodautoscaler_spec_max_replicas Upper limit for the number of pods that can be set by the autoscaler.\n# TYPE kube_horizontalpodautoscaler_spec_max_replicas gauge\n");
        foreach (var h in hpas)
        {
            sb.Append($"kube_horizontalpodautoscaler_spec_max_replicas{{namespace=\"{Escape(J.Namespace(h))}\",horizontalpodautoscaler=\"{Escape(J.Name(h))}\"}} {J.Long(h, "spec", "maxReplicas") ?? 0}\n");
        }
    }
}
