using System.Globalization;
using System.Net;
using System.Text.Json;
using k8s;
using k8s.Models;
using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Metrics;

namespace Remediation.Diagnosis;

/// <summary>
/// Diagnoses a Deployment from its ReplicaSets (by revision), the state of their pods, Warning events, the HPA and the Istio
/// routing (at most 6 Kubernetes reads), plus — when configured — Istio golden signals per version from Prometheus and
/// Container insights (Log Analytics). Optional sources degrade the diagnosis (<see cref="DiagnosisResult.Unavailable"/>);
/// the Kubernetes API being unreachable surfaces as a TransientDependencyException.
/// </summary>
public sealed class KubernetesDiagnoser(
    IClusterReader reader,
    TimeProvider timeProvider,
    IMeshSignals? mesh = null,
    IContainerInsights? insights = null,
    DiagnosisOptions? options = null) : IDiagnoser
{
    private readonly DiagnosisOptions _options = options ?? new DiagnosisOptions();

    public async Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(target);
        using var budget = new CancellationTokenSource(_options.Budget, timeProvider);
        using var budgetToken = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, budget.Token);
        var run = new Run(_options, timeProvider, target, budget, budgetToken.Token, cancellationToken);
        if (mesh is null)
        {
            run.Unavailable("prometheus", "not configured (Remediation:Prometheus:Url)");
        }

        var deployment = await reader.GetDeploymentAsync(target.Namespace, target.Name, cancellationToken).ConfigureAwait(false);
        if (deployment is null)
        {
            return run.Finish(FailureClass.NotFound, target.ToString(), 1, $"Deployment {target} does not exist",
                [new Evidence("kubernetes", $"GET deployments/{target.Name} in {target.Namespace}: 404 Not Found")]);
        }
        var templateLabels = deployment.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>();
        var app = templateLabels.TryGetValue("app", out var a) ? a : templateLabels.TryGetValue("app.kubernetes.io/name", out var n) ? n : null;
        var services = new[] { app, target.Name }.OfType<string>().Distinct(StringComparer.Ordinal).ToList();

        // Metrics run while the cluster is read.
        var currentSignals = mesh is null ? Task.FromResult<IReadOnlyList<VersionSignals>?>(null)
            : run.OptionalAsync("prometheus", ct => mesh.VersionSignalsAsync(target.Namespace, services, _options.MetricsWindow, null, ct), useSourceTimeout: false);
        var baselineSignals = mesh is null || _options.BaselineOffset <= TimeSpan.Zero ? Task.FromResult<IReadOnlyList<VersionSignals>?>(null)
            : run.OptionalAsync("prometheus baseline", ct => mesh.VersionSignalsAsync(target.Namespace, services, _options.MetricsWindow, _options.BaselineOffset, ct), useSourceTimeout: false);
        var inventory = insights is null ? Task.FromResult<IReadOnlyList<PodInventoryRow>?>(null)
            : run.OptionalAsync("log analytics KubePodInventory", ct => insights.PodInventoryAsync(target.Namespace, target.Name, ct));

        var replicaSetsTask = reader.ReplicaSetsOfAsync(deployment, cancellationToken);
        var podsTask = reader.PodsOfAsync(deployment, cancellationToken);
        // WhenAll observes both tasks: a second failure is not left unobserved.
        await Task.WhenAll(replicaSetsTask, podsTask).ConfigureAwait(false);
        var owned = await replicaSetsTask.ConfigureAwait(false);
        var pods = await podsTask.ConfigureAwait(false);

        var evidence = new List<Evidence>();
        var newest = owned.FirstOrDefault();
        var previous = owned.Skip(1).FirstOrDefault();
        var newestPods = newest is null ? pods.ToList() : pods.Where(p => PodTemplateHash(p) == PodTemplateHash(newest)).ToList();
        var podStates = newestPods.Select(PodState.Of).ToList();
        foreach (var state in podStates)
        {
            evidence.Add(new Evidence("kubernetes", state.Describe(), state.Data()));
        }
        TimeSpan? newestAge = null;
        if (newest is not null)
        {
            var age = timeProvider.GetUtcNow() - (newest.Metadata.CreationTimestamp ?? DateTime.MinValue);
            newestAge = age;
            evidence.Add(new Evidence("kubernetes",
                string.Create(CultureInfo.InvariantCulture, $"newest revision {Revision(newest)} ({newest.Metadata.Name}, image {Images(newest)}) appeared {FormatAge(age)} ago"),
                new Dictionary<string, string> { ["revision"] = Revision(newest).ToString(CultureInfo.InvariantCulture), ["replicaSet"] = newest.Metadata.Name, ["image"] = Images(newest), ["ageSeconds"] = ((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture) }));
        }
        if (previous is not null)
        {
            var ready = previous.Status?.ReadyReplicas ?? 0;
            evidence.Add(new Evidence("kubernetes",
                string.Create(CultureInfo.InvariantCulture, $"previous revision {Revision(previous)} ({previous.Metadata.Name}, image {Images(previous)}): {ready}/{previous.Spec.Replicas ?? 0} replicas ready"),
                new Dictionary<string, string> { ["revision"] = Revision(previous).ToString(CultureInfo.InvariantCulture), ["replicaSet"] = previous.Metadata.Name, ["image"] = Images(previous), ["readyReplicas"] = ready.ToString(CultureInfo.InvariantCulture) }));
        }
        if (deployment.Spec.Paused == true)
        {
            evidence.Add(new Evidence("kubernetes", $"rollout of {target} is paused", new Dictionary<string, string> { ["paused"] = "true" }));
        }
        if (deployment.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing" && c.Status == "False") is { } stalled)
        {
            evidence.Add(new Evidence("kubernetes", $"rollout not progressing: {stalled.Reason}: {stalled.Message}", new Dictionary<string, string> { ["reason"] = stalled.Reason ?? "" }));
        }

        var failing = podStates.Where(s => s.Failure is not null).ToList();
        if (failing.Count > 0)
        {
            return await DiagnoseFailingPodsAsync(run, target, evidence, newest, previous, newestAge, newestPods, podStates, failing, inventory, currentSignals, baselineSignals).ConfigureAwait(false);
        }
        return await DiagnoseRunningAsync(run, target, deployment, app, evidence, newest, previous, newestAge, podStates, inventory, currentSignals, baselineSignals).ConfigureAwait(false);
    }

    private async Task<DiagnosisResult> DiagnoseFailingPodsAsync(Run run, WorkloadTarget target, List<Evidence> evidence, V1ReplicaSet? newest, V1ReplicaSet? previous,
        TimeSpan? newestAge, List<V1Pod> newestPods, List<PodState> podStates, List<PodState> failing,
        Task<IReadOnlyList<PodInventoryRow>?> inventory, Task<IReadOnlyList<VersionSignals>?> currentSignals, Task<IReadOnlyList<VersionSignals>?> baselineSignals)
    {
        var failingNames = failing.Select(f => f.Name).ToHashSet(StringComparer.Ordinal);
        var eventsTask = run.OptionalAsync("kubernetes events", ct => reader.ListWarningEventsAsync(target.Namespace, 500, ct));
        var logsTask = insights is null ? Task.FromResult<IReadOnlyList<ContainerLogLine>?>(null)
            : run.OptionalAsync("log analytics ContainerLogV2", ct => insights.ErrorLinesAsync(target.Namespace, failingNames, _options.MaxLogLines, ct));

        var events = await eventsTask.ConfigureAwait(false);
        var warningEvents = (events ?? [])
            .Where(e => e.InvolvedObject?.Kind == "Pod" && e.InvolvedObject.Name is { } name && failingNames.Contains(name))
            .OrderByDescending(e => e.LastTimestamp ?? e.EventTime ?? e.Metadata?.CreationTimestamp)
            .ToList();
        foreach (var e in warningEvents.Take(_options.MaxEvents))
        {
            evidence.Add(new Evidence("kubernetes", $"event {e.Reason} on pod {e.InvolvedObject.Name} (x{e.Count ?? 1}): {e.Message}",
                new Dictionary<string, string>
                {
                    ["kind"] = "event", ["pod"] = e.InvolvedObject.Name ?? "", ["reason"] = e.Reason ?? "", ["count"] = (e.Count ?? 1).ToString(CultureInfo.InvariantCulture),
                    ["message"] = e.Message ?? "", ["lastTimestamp"] = (e.LastTimestamp ?? e.EventTime)?.ToString("o", CultureInfo.InvariantCulture) ?? "",
                }));
        }
        AddInventory(evidence, await inventory.ConfigureAwait(false));
        foreach (var line in (await logsTask.ConfigureAwait(false) ?? []).Take(_options.MaxLogLines))
        {
            evidence.Add(new Evidence("log analytics", $"log {line.Pod}/{line.Container}: {Truncate(line.Message, 300)}",
                new Dictionary<string, string> { ["kind"] = "log", ["pod"] = line.Pod, ["container"] = line.Container ?? "", ["time"] = line.TimeGenerated.ToString("o", CultureInfo.InvariantCulture), ["message"] = line.Message }));
        }
        AddSignals(evidence, await currentSignals.ConfigureAwait(false), await baselineSignals.ConfigureAwait(false), null);

        var dominant = failing.GroupBy(s => s.Failure!.Value).OrderByDescending(g => g.Count()).ThenBy(g => Priority(g.Key)).First().Key;
        var component = newest is null ? target.ToString() : $"{target.Name}@{Revision(newest)}";
        var recent = previous is not null && newestAge is { } age && age <= _options.RecentChange;
        var previousServing = previous is not null && (previous.Status?.ReadyReplicas ?? 0) > 0;
        long? failingRevision = newest is null ? null : Revision(newest);
        long? healthyRevision = previous is null ? null : Revision(previous);
        var share = $"{failing.Count(f => f.Failure == dominant)} of {podStates.Count} pods";
        switch (dominant)
        {
            case FailureClass.OutOfMemory:
            {
                var limits = failing.Where(f => f.Failure == FailureClass.OutOfMemory && f.MemoryLimit is not null).Select(f => $"{f.Container}={f.MemoryLimit}").Distinct().ToList();
                var limitText = limits.Count > 0 ? $"memory limit {string.Join(", ", limits)}" : "no memory limit set";
                evidence.Add(new Evidence("kubernetes", $"containers are OOMKilled at {limitText}; a restart will not help (raise the limit or fix the leak)",
                    new Dictionary<string, string> { ["memoryLimit"] = string.Join(",", limits) }));
                var result = run.Finish(FailureClass.OutOfMemory, component, 0.9, $"{share} of {target} are OOMKilled ({limitText}); a restart will not help", evidence);
                return recent ? result with { FailingRevision = failingRevision, HealthyRevision = healthyRevision } : result;
            }
            case FailureClass.ImagePull:
            {
                var images = failing.Where(f => f.Failure == FailureClass.ImagePull).Select(f => f.Image).OfType<string>().Distinct().ToList();
                var summary = $"{share} of {target} cannot pull image {string.Join(", ", images)}"
                    + (previous is null ? "" : $"; revision {Revision(previous)} ({Images(previous)}) {(previousServing ? "still serves" : "ran before it")}");
                var result = run.Finish(FailureClass.ImagePull, component, 0.9, summary, evidence);
                return previous is null ? result : result with { FailingRevision = failingRevision, HealthyRevision = healthyRevision };
            }
            case FailureClass.Unschedulable:
            {
                var message = failing.FirstOrDefault(f => f.Failure == FailureClass.Unschedulable)?.Detail
                    ?? warningEvents.FirstOrDefault(e => e.Reason == "FailedScheduling")?.Message ?? "no scheduler message";
                var summary = $"{share} of {target} cannot be scheduled: {message}"
                    + (previous is null ? "" : $"; revision {Revision(previous)} {(previousServing ? "still serves" : "ran before it")}");
                var result = run.Finish(FailureClass.Unschedulable, component, 0.9, summary, evidence);
                return previous is null ? result : result with { FailingRevision = failingRevision, HealthyRevision = healthyRevision };
            }
            case FailureClass.CrashLoop when previous is not null && (recent || previousServing):
                return run.Finish(FailureClass.BadRollout, component, recent ? 0.85 : 0.7,
                    $"revision {failingRevision} of {target} ({Images(newest!)}) crash-loops ({share}) since it was rolled out {FormatAge(newestAge ?? TimeSpan.Zero)} ago; revision {healthyRevision} ({Images(previous)}) ran before it",
                    evidence) with
                {
                    FailingRevision = failingRevision,
                    HealthyRevision = healthyRevision,
                };
            case FailureClass.CrashLoop:
                return run.Finish(FailureClass.CrashLoop, component, 0.8,
                    $"{share} of {target} crash-loop with no recent change (newest revision {(newestAge is { } g ? FormatAge(g) + " old" : "unknown")}{(previous is null ? ", no earlier revision" : "")})",
                    evidence);
            default:
                return run.Finish(dominant, component, 0.75, $"{share} of {target}: {dominant}", evidence);
        }
    }

    private async Task<DiagnosisResult> DiagnoseRunningAsync(Run run, WorkloadTarget target, V1Deployment deployment, string? app, List<Evidence> evidence,
        V1ReplicaSet? newest, V1ReplicaSet? previous, TimeSpan? newestAge, List<PodState> podStates,
        Task<IReadOnlyList<PodInventoryRow>?> inventory, Task<IReadOnlyList<VersionSignals>?> currentSignals, Task<IReadOnlyList<VersionSignals>?> baselineSignals)
    {
        var hpaTask = run.OptionalAsync("kubernetes horizontalpodautoscalers", ct => reader.ListHorizontalPodAutoscalersAsync(target.Namespace, ct));
        var current = await currentSignals.ConfigureAwait(false);
        var baseline = await baselineSignals.ConfigureAwait(false);
        // Prometheus is configured but could not be read: the conclusions that rest on metrics (healthy, no errors) cannot be drawn.
        var metricsUnavailable = mesh is not null && current is null ? run.Why("prometheus") ?? "prometheus: no answer" : null;
        AddInventory(evidence, await inventory.ConfigureAwait(false));
        var hpa = (await hpaTask.ConfigureAwait(false))?
            .FirstOrDefault(h => h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == target.Name);
        var hpaState = hpa is null ? null : HpaState.Of(hpa);
        if (hpaState is not null)
        {
            evidence.Add(new Evidence("kubernetes", hpaState.Describe(), hpaState.Data()));
        }

        var versions = ByVersion(current);
        var self = current?.Where(s => s.Workload == target.Name).ToList() ?? [];
        var selfSignals = self.Count == 0 ? null : Combine(target.Name, self[0].Version, self);
        var selfBaseline = baseline?.Where(s => s.Workload == target.Name).ToList() is { Count: > 0 } b ? Combine(target.Name, b[0].Version, b) : null;

        // One version subset degraded while a sibling is healthy.
        if (DegradedVersion(versions) is { } degraded)
        {
            AddSignals(evidence, current, baseline, degraded.Bad.Version);
            await AddRoutingAsync(run, target, app ?? target.Name, evidence).ConfigureAwait(false);
            var bad = degraded.Bad;
            var best = degraded.Healthy.OrderBy(h => h.ErrorRatio).First();
            var why = degraded.ByErrors
                ? $"fails {VersionSignals.Percent(bad.ErrorRatio)} of requests (5xx) while {best.Version} fails {VersionSignals.Percent(best.ErrorRatio)}"
                : $"has p99 {bad.P99Ms:0} ms while {best.Version} has {best.P99Ms:0} ms";
            var appName = app ?? target.Name;
            return run.Finish(FailureClass.DegradedVersion, $"{appName}:{bad.Version}", degraded.ByErrors ? 0.85 : 0.7,
                string.Create(CultureInfo.InvariantCulture, $"version {bad.Version} of {target.Namespace}/{appName} ({bad.Workload}) {why}"), evidence) with
            {
                DegradedVersion = bad.Version,
                HealthyVersions = degraded.Healthy.Select(h => h.Version).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal).ToList(),
            };
        }
        AddSignals(evidence, current, baseline, null);

        var component = newest is null ? target.ToString() : $"{target.Name}@{Revision(newest)}";
        // Errors without failing pods: a recent rollout whose baseline was clean is a bad rollout.
        if (selfSignals is { } sig && sig.RequestsPerSecond >= _options.MinRequestsPerSecond && sig.ErrorRatio >= _options.ErrorRatioThreshold)
        {
            if (previous is not null && newestAge is { } age && age <= _options.RecentChange && age <= _options.BaselineOffset + _options.MetricsWindow
                && selfBaseline is { } before && before.ErrorRatio < _options.ErrorRatioThreshold)
            {
                return run.Finish(FailureClass.BadRollout, component, 0.7,
                    $"{target} fails {VersionSignals.Percent(sig.ErrorRatio)} of requests since revision {Revision(newest!)} was rolled out {FormatAge(age)} ago (baseline {VersionSignals.Percent(before.ErrorRatio)})",
                    evidence) with
                {
                    FailingRevision = Revision(newest!),
                    HealthyRevision = Revision(previous),
                };
            }
            return run.Finish(FailureClass.Unknown, target.ToString(), 0.4,
                $"{target} fails {VersionSignals.Percent(sig.ErrorRatio)} of requests with running pods and no recent change", evidence);
        }

        // Saturation: latency (or CPU at the HPA's limit) high with few errors.
        var latencyHigh = selfSignals?.P99Ms is { } p99 && selfSignals.RequestsPerSecond >= _options.MinRequestsPerSecond
            && (p99 >= _options.LatencyThresholdMs || (selfBaseline?.P99Ms is { } bp && bp > 0 && p99 >= bp * _options.LatencyFactor));
        var cpuHigh = hpaState is { CpuCurrent: { } cpu, CpuTarget: { } cpuTarget } && cpu >= cpuTarget;
        if (latencyHigh || cpuHigh)
        {
            var reasons = new List<string>();
            if (latencyHigh)
            {
                reasons.Add(string.Create(CultureInfo.InvariantCulture, $"p99 {selfSignals!.P99Ms:0} ms") + (selfBaseline?.P99Ms is { } was ? string.Create(CultureInfo.InvariantCulture, $" (baseline {was:0} ms)") : ""));
            }
            if (cpuHigh)
            {
                reasons.Add($"CPU {hpaState!.CpuCurrent}% of request (target {hpaState.CpuTarget}%)");
            }
            if (selfSignals is not null)
            {
                reasons.Add($"5xx {VersionSignals.Percent(selfSignals.ErrorRatio)}");
            }
            if (metricsUnavailable is not null)
            {
                return run.Finish(FailureClass.Unknown, target.ToString(), 0.3,
                    $"metrics unavailable: {metricsUnavailable}; {target} looks loaded ({string.Join(", ", reasons)}), but without its error rate that alone does not show saturation", evidence);
            }
            if (hpaState is null || hpaState.AtMax)
            {
                var scaling = hpaState is null ? "no HPA scales it" : $"HPA {hpaState.Name} is at its maximum ({hpaState.Current}/{hpaState.Max} replicas, wants {hpaState.Desired})";
                return run.Finish(FailureClass.Saturation, target.ToString(), latencyHigh && cpuHigh ? 0.85 : 0.7,
                    $"{target} is saturated: {string.Join(", ", reasons)}; {scaling}: scale-out candidate", evidence);
            }
            return run.Finish(FailureClass.Unknown, target.ToString(), 0.4,
                $"{target} looks loaded ({string.Join(", ", reasons)}) but HPA {hpaState.Name} still has headroom ({hpaState.Current}/{hpaState.Max})", evidence);
        }

        if (podStates.Count > 0 && podStates.All(s => s.Ready))
        {
            if (metricsUnavailable is not null)
            {
                return run.Finish(FailureClass.Unknown, target.ToString(), 0.3,
                    $"metrics unavailable: {metricsUnavailable}; all {podStates.Count} pods of {target} are ready, which alone does not show the alert is stale", evidence);
            }
            var metricsNote = mesh is null ? " (no metrics consulted: Prometheus is not configured)"
                : selfSignals is null ? "" : $", 5xx {VersionSignals.Percent(selfSignals.ErrorRatio)}";
            return run.Finish(FailureClass.Healthy, target.ToString(), selfSignals is null ? 0.7 : 0.85,
                $"all {podStates.Count} pods of {target} are ready{metricsNote}; the alert looks stale", evidence);
        }
        return run.Finish(FailureClass.Unknown, target.ToString(), 0.3,
            (metricsUnavailable is null ? "" : $"metrics unavailable: {metricsUnavailable}; ")
            + (podStates.Count == 0 ? $"{target} has no pods of its newest revision" : $"{target}: no failing container state found"), evidence);
    }

    private sealed record Degradation(VersionSignals Bad, IReadOnlyList<VersionSignals> Healthy, bool ByErrors);

    private Degradation? DegradedVersion(IReadOnlyList<VersionSignals> versions)
    {
        var active = versions.Where(v => v.RequestsPerSecond >= _options.MinRequestsPerSecond).ToList();
        if (active.Count < 2)
        {
            return null;
        }
        var worst = active.OrderByDescending(v => v.ErrorRatio).First();
        var healthy = active.Where(v => v.Version != worst.Version && v.ErrorRatio < _options.ErrorRatioThreshold).ToList();
        if (worst.ErrorRatio >= _options.ErrorRatioThreshold && healthy.Count > 0
            && worst.ErrorRatio >= _options.DegradedFactor * Math.Max(healthy.Min(h => h.ErrorRatio), 0.001))
        {
            return new Degradation(worst, healthy, true);
        }
        var slowest = active.Where(v => v.P99Ms is not null).OrderByDescending(v => v.P99Ms).FirstOrDefault();
        var fast = active.Where(v => slowest is not null && v.Version != slowest.Version && v.P99Ms is { } p && p * _options.LatencyFactor <= slowest.P99Ms
            && v.ErrorRatio < _options.ErrorRatioThreshold).ToList();
        if (slowest is not null && fast.Count > 0 && slowest.P99Ms >= 100)
        {
            return new Degradation(slowest, fast, false);
        }
        return null;
    }

    /// <summary>Signals per version (workloads of the same version combined).</summary>
    private static List<VersionSignals> ByVersion(IReadOnlyList<VersionSignals>? signals) =>
        signals is null ? [] : signals.GroupBy(s => s.Version, StringComparer.Ordinal)
            .Select(g => Combine(string.Join("+", g.Select(s => s.Workload).Distinct(StringComparer.Ordinal)), g.Key, g.ToList())).ToList();

    private static VersionSignals Combine(string workload, string version, IReadOnlyList<VersionSignals> parts)
    {
        var rps = parts.Sum(p => p.RequestsPerSecond);
        var ratio = rps > 0 ? parts.Sum(p => p.ErrorRatio * p.RequestsPerSecond) / rps : 0;
        var p99 = parts.Where(p => p.P99Ms is not null).Select(p => p.P99Ms).DefaultIfEmpty(null).Max();
        return new VersionSignals(workload, version, rps, ratio, p99);
    }

    private static void AddSignals(List<Evidence> evidence, IReadOnlyList<VersionSignals>? current, IReadOnlyList<VersionSignals>? baseline, string? degradedVersion)
    {
        foreach (var s in current ?? [])
        {
            var data = s.Data();
            data["kind"] = "istio";
            if (degradedVersion is not null)
            {
                data["degraded"] = s.Version == degradedVersion ? "true" : "false";
            }
            var before = baseline?.FirstOrDefault(x => x.Workload == s.Workload && x.Version == s.Version);
            if (before is not null)
            {
                foreach (var (k, v) in before.Data("baseline."))
                {
                    data[k] = v;
                }
            }
            var baselineText = before is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (baseline: 5xx {VersionSignals.Percent(before.ErrorRatio)}, p99 {before.P99Ms:0.#} ms)");
            evidence.Add(new Evidence("prometheus", "istio " + s.Describe() + baselineText, data));
        }
    }

    private static void AddInventory(List<Evidence> evidence, IReadOnlyList<PodInventoryRow>? rows)
    {
        foreach (var r in (rows ?? []).Where(r => r.ContainerStatusReason is { Length: > 0 } || r.RestartCount > 0).Take(3))
        {
            evidence.Add(new Evidence("log analytics",
                $"KubePodInventory {r.Pod}/{r.Container}: {r.PodStatus}, {r.ContainerStatus} {r.ContainerStatusReason}, {r.RestartCount} restarts",
                new Dictionary<string, string>
                {
                    ["kind"] = "KubePodInventory", ["pod"] = r.Pod, ["container"] = r.Container ?? "", ["containerStatusReason"] = r.ContainerStatusReason ?? "",
                    ["restarts"] = r.RestartCount.ToString(CultureInfo.InvariantCulture), ["time"] = r.TimeGenerated.ToString("o", CultureInfo.InvariantCulture),
                }));
        }
    }

    /// <summary>The VirtualService(s) routing the service and the DestinationRule subsets (2 reads).</summary>
    private async Task AddRoutingAsync(Run run, WorkloadTarget target, string service, List<Evidence> evidence)
    {
        var vsTask = run.OptionalAsync("istio virtualservices", ct => reader.ListCustomObjectsAsync(CustomResource.VirtualService, target.Namespace, ct));
        var drTask = run.OptionalAsync("istio destinationrules", ct => reader.ListCustomObjectsAsync(CustomResource.DestinationRule, target.Namespace, ct));
        foreach (var vs in Items(await vsTask.ConfigureAwait(false)))
        {
            if (!vs.TryGetProperty("spec", out var spec) || !spec.TryGetProperty("hosts", out var hosts)
                || !hosts.EnumerateArray().Any(h => HostMatches(h.GetString() ?? "", service, target.Namespace)))
            {
                continue;
            }
            var routes = new List<string>();
            if (spec.TryGetProperty("http", out var http))
            {
                foreach (var route in http.EnumerateArray().Where(r => r.TryGetProperty("route", out _)).SelectMany(r => r.GetProperty("route").EnumerateArray()))
                {
                    var dest = route.TryGetProperty("destination", out var d) ? d : default;
                    var host = dest.ValueKind == JsonValueKind.Object && dest.TryGetProperty("host", out var h) ? h.GetString() : "?";
                    var subset = dest.ValueKind == JsonValueKind.Object && dest.TryGetProperty("subset", out var s) ? s.GetString() : null;
                    var weight = route.TryGetProperty("weight", out var w) && w.ValueKind == JsonValueKind.Number ? w.GetInt32() : (int?)null;
                    routes.Add($"{host}{(subset is null ? "" : " subset " + subset)} {(weight is null ? "" : weight.Value.ToString(CultureInfo.InvariantCulture) + "%")}".TrimEnd());
                }
            }
            var name = Name(vs);
            evidence.Add(new Evidence("kubernetes", $"VirtualService {name} routes {service}: {string.Join(", ", routes)}",
                new Dictionary<string, string> { ["kind"] = "VirtualService", ["name"] = name, ["routes"] = string.Join(";", routes) }));
        }
        foreach (var dr in Items(await drTask.ConfigureAwait(false)))
        {
            if (!dr.TryGetProperty("spec", out var spec) || !spec.TryGetProperty("host", out var host) || !HostMatches(host.GetString() ?? "", service, target.Namespace))
            {
                continue;
            }
            var subsets = spec.TryGetProperty("subsets", out var ss)
                ? ss.EnumerateArray().Select(s => $"{(s.TryGetProperty("name", out var n) ? n.GetString() : "?")} ({(s.TryGetProperty("labels", out var l) ? string.Join(",", l.EnumerateObject().Select(p => $"{p.Name}={p.Value.GetString()}")) : "")})").ToList()
                : [];
            var name = Name(dr);
            evidence.Add(new Evidence("kubernetes", $"DestinationRule {name} subsets: {string.Join(", ", subsets)}",
                new Dictionary<string, string> { ["kind"] = "DestinationRule", ["name"] = name, ["subsets"] = string.Join(";", subsets) }));
        }
    }

    private static IEnumerable<JsonElement> Items(IReadOnlyList<System.Text.Json.Nodes.JsonObject>? list) =>
        (list ?? []).Select(o => JsonDocument.Parse(o.ToJsonString()).RootElement);

    private static string Name(JsonElement obj) =>
        obj.TryGetProperty("metadata", out var m) && m.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "";

    private static bool HostMatches(string host, string service, string ns) =>
        host == service || host == $"{service}.{ns}" || host == $"{service}.{ns}.svc" || host == $"{service}.{ns}.svc.cluster.local";

    private static int Priority(FailureClass c) => c switch
    {
        FailureClass.OutOfMemory => 0,
        FailureClass.ImagePull => 1,
        FailureClass.Unschedulable => 2,
        _ => 3,
    };

    private static long Revision(V1ReplicaSet rs) => DeploymentRevisions.Of(rs);

    private static string? PodTemplateHash(V1Pod pod) => DeploymentRevisions.PodTemplateHash(pod.Metadata);

    private static string? PodTemplateHash(V1ReplicaSet rs) => DeploymentRevisions.PodTemplateHash(rs.Metadata);

    private static string Images(V1ReplicaSet rs) => string.Join(",", rs.Spec.Template.Spec.Containers.Select(c => c.Image));

    private static string FormatAge(TimeSpan age) => age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s" : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m" : age.TotalDays < 2 ? $"{(int)age.TotalHours}h" : $"{(int)age.TotalDays}d";

    private static string Truncate(string s, int max) => s.Length > max ? s[..max] + "…" : s;

    /// <summary>The state of one diagnosis: its budget and what could not be consulted.</summary>
    private sealed class Run(DiagnosisOptions options, TimeProvider timeProvider, WorkloadTarget target, CancellationTokenSource budget, CancellationToken budgetToken, CancellationToken callerToken)
    {
        private readonly List<string> _unavailable = [];

        /// <summary>The recorded "source: why" of a source that could not be consulted; null when it was.</summary>
        public string? Why(string source)
        {
            lock (_unavailable)
            {
                return _unavailable.FirstOrDefault(u => u.StartsWith(source + ": ", StringComparison.Ordinal));
            }
        }

        public void Unavailable(string source, string why)
        {
            lock (_unavailable)
            {
                _unavailable.Add($"{source}: {why}");
            }
        }

        /// <summary>Runs an optional source within the budget (and its own timeout); null when it failed, recorded in Unavailable.</summary>
        public async Task<T?> OptionalAsync<T>(string source, Func<CancellationToken, Task<T>> call, bool useSourceTimeout = true) where T : class
        {
            using var timeout = new CancellationTokenSource(useSourceTimeout ? options.SourceTimeout : Timeout.InfiniteTimeSpan, timeProvider);
            using var linked = CancellationTokenSource.CreateLinkedTokenSource(budgetToken, timeout.Token);
            try
            {
                return await call(linked.Token).ConfigureAwait(false);
            }
            catch (Exception ex) when (!callerToken.IsCancellationRequested && ex is not OutOfMemoryException)
            {
                var why = ex switch
                {
                    OperationCanceledException when budget.IsCancellationRequested => $"diagnosis budget of {Seconds(options.Budget)} exhausted",
                    OperationCanceledException when timeout.IsCancellationRequested => $"timed out after {Seconds(options.SourceTimeout)}",
                    k8s.Autorest.HttpOperationException hoe => ClusterCall.Describe(hoe),
                    HttpRequestException hre => MetricsFailure.Describe(hre),
                    Storage.TransientDependencyException or PrometheusQueryException or LogAnalyticsQueryException or TimeoutException => ex.Message,
                    _ => $"{ex.GetType().Name}: {ex.Message}",
                };
                Unavailable(source, why);
                return null;
            }
        }

        public DiagnosisResult Finish(FailureClass cls, string component, double confidence, string summary, List<Evidence> evidence)
        {
            lock (_unavailable)
            {
                return new DiagnosisResult
                {
                    Class = cls, Target = target, Component = component, Confidence = confidence, Summary = summary, Evidence = evidence,
                    Unavailable = [.. _unavailable],
                };
            }
        }

        private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s";
    }

    /// <summary>An autoscaling/v2 HPA's scale state and CPU utilization.</summary>
    private sealed record HpaState(string Name, int Min, int Max, int Current, int Desired, int? CpuCurrent, int? CpuTarget, string? LimitedMessage)
    {
        public bool AtMax => Current >= Max || Desired >= Max;

        public static HpaState Of(V2HorizontalPodAutoscaler hpa)
        {
            var cpuTarget = hpa.Spec.Metrics?.FirstOrDefault(m => m.Type == "Resource" && m.Resource?.Name == "cpu")?.Resource.Target.AverageUtilization;
            var cpuCurrent = hpa.Status?.CurrentMetrics?.FirstOrDefault(m => m.Type == "Resource" && m.Resource?.Name == "cpu")?.Resource.Current.AverageUtilization;
            var limited = hpa.Status?.Conditions?.FirstOrDefault(c => c.Type == "ScalingLimited" && c.Status == "True");
            return new HpaState(hpa.Metadata.Name, hpa.Spec.MinReplicas ?? 1, hpa.Spec.MaxReplicas, hpa.Status?.CurrentReplicas ?? 0, hpa.Status?.DesiredReplicas ?? 0,
                cpuCurrent, cpuTarget, limited is null ? null : $"{limited.Reason}: {limited.Message}");
        }

        public string Describe() =>
            $"HPA {Name}: {Current}/{Max} replicas (min {Min}, desired {Desired}){(CpuCurrent is null ? "" : $", CPU {CpuCurrent}% (target {CpuTarget}%)")}{(AtMax ? ", at its maximum" : "")}{(LimitedMessage is null ? "" : $"; {LimitedMessage}")}";

        public Dictionary<string, string> Data() => new()
        {
            ["kind"] = "HorizontalPodAutoscaler",
            ["name"] = Name,
            ["currentReplicas"] = Current.ToString(CultureInfo.InvariantCulture),
            ["desiredReplicas"] = Desired.ToString(CultureInfo.InvariantCulture),
            ["minReplicas"] = Min.ToString(CultureInfo.InvariantCulture),
            ["maxReplicas"] = Max.ToString(CultureInfo.InvariantCulture),
            ["cpuUtilization"] = CpuCurrent?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["cpuTarget"] = CpuTarget?.ToString(CultureInfo.InvariantCulture) ?? "",
            ["atMax"] = AtMax ? "true" : "false",
        };
    }

    /// <summary>The failure state of one pod, read from its container statuses and conditions.</summary>
    private sealed record PodState(string Name, bool Ready, FailureClass? Failure, string? Reason, int Restarts, string? Detail,
        string? Container = null, string? Image = null, string? MemoryLimit = null, int? ExitCode = null)
    {
        public static PodState Of(V1Pod pod)
        {
            var statuses = pod.Status?.ContainerStatuses ?? [];
            var restarts = statuses.Sum(s => s.RestartCount);
            var ready = statuses.Count > 0 && statuses.All(s => s.Ready);
            foreach (var status in statuses)
            {
                var waiting = status.State?.Waiting?.Reason;
                var terminated = status.LastState?.Terminated ?? status.State?.Terminated;
                var lastTerminated = terminated?.Reason;
                var limit = pod.Spec?.Containers?.FirstOrDefault(c => c.Name == status.Name)?.Resources?.Limits is { } limits && limits.TryGetValue("memory", out var mem)
                    ? mem.ToString() : null;
                if (lastTerminated == "OOMKilled")
                {
                    return new PodState(pod.Metadata.Name, ready, FailureClass.OutOfMemory, "OOMKilled", restarts,
                        $"container {status.Name} OOMKilled (exit code {terminated?.ExitCode}, memory limit {limit ?? "none"}){(waiting is null ? "" : ", " + waiting)}",
                        status.Name, status.Image, limit, terminated?.ExitCode);
                }
                if (waiting is "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName")
                {
                    var message = status.State?.Waiting?.Message;
                    return new PodState(pod.Metadata.Name, ready, FailureClass.ImagePull, waiting, restarts,
                        $"container {status.Name} image {status.Image}: {waiting}{(string.IsNullOrEmpty(message) ? "" : ": " + message)}", status.Name, status.Image, limit);
                }
                if (waiting == "CrashLoopBackOff" || lastTerminated == "Error")
                {
                    return new PodState(pod.Metadata.Name, ready, FailureClass.CrashLoop, waiting ?? lastTerminated, restarts,
                        $"container {status.Name} {waiting ?? lastTerminated}{(terminated is null ? "" : $", last exit code {terminated.ExitCode} ({terminated.Reason})")}, {status.RestartCount} restarts",
                        status.Name, status.Image, limit, terminated?.ExitCode);
                }
            }
            if (pod.Status?.Phase == "Pending" && pod.Status.Conditions?.FirstOrDefault(c => c.Type == "PodScheduled" && c.Status == "False") is { } unscheduled)
            {
                return new PodState(pod.Metadata.Name, false, FailureClass.Unschedulable, unscheduled.Reason, restarts, unscheduled.Message);
            }
            return new PodState(pod.Metadata.Name, ready, null, null, restarts, null);
        }

        public string Describe() => Failure is null
            ? $"pod {Name}: {(Ready ? "ready" : "not ready")}, {Restarts} restarts"
            : $"pod {Name}: {Reason} ({Detail}), {Restarts} restarts";

        public Dictionary<string, string> Data()
        {
            var data = new Dictionary<string, string>
            {
                ["kind"] = "pod",
                ["pod"] = Name,
                ["ready"] = Ready ? "true" : "false",
                ["restarts"] = Restarts.ToString(CultureInfo.InvariantCulture),
                ["reason"] = Reason ?? "",
            };
            if (Container is not null)
            {
                data["container"] = Container;
            }
            if (Image is not null)
            {
                data["image"] = Image;
            }
            if (MemoryLimit is not null)
            {
                data["memoryLimit"] = MemoryLimit;
            }
            if (ExitCode is { } code)
            {
                data["exitCode"] = code.ToString(CultureInfo.InvariantCulture);
            }
            if (Failure == FailureClass.Unschedulable && Detail is not null)
            {
                data["message"] = Detail;
            }
            return data;
        }
    }
}
