using System.Globalization;
using k8s.Models;
using Remediation.Cluster;

namespace Remediation.Diagnosis;

/// <summary>The evidence every diagnosis of a workload shows: its revisions and pods, events, Container insights, HPA and mesh signals.</summary>
internal static class WorkloadEvidence
{
    private const int LogTextLength = 300;
    private const int InventoryRows = 3;

    /// <summary>The pods of the newest revision, the newest and previous revisions, a paused or stalled rollout.</summary>
    public static List<Evidence> Workload(WorkloadView view)
    {
        var evidence = view.Pods.Select(p => new Evidence("kubernetes", p.Describe(), p.Data())).ToList();
        if (view.Newest is { } newest && view.NewestAge is { } age)
        {
            evidence.Add(new Evidence("kubernetes",
                string.Create(CultureInfo.InvariantCulture, $"newest revision {DeploymentRevisions.Of(newest)} ({newest.Metadata.Name}, image {DiagnosisText.Images(newest)}) appeared {DiagnosisText.Age(age)} ago"),
                new Dictionary<string, string> { ["revision"] = Number(DeploymentRevisions.Of(newest)), ["replicaSet"] = newest.Metadata.Name, ["image"] = DiagnosisText.Images(newest), ["ageSeconds"] = Number((long)age.TotalSeconds) }));
        }
        if (view.Previous is { } previous)
        {
            var ready = previous.Status?.ReadyReplicas ?? 0;
            evidence.Add(new Evidence("kubernetes",
                string.Create(CultureInfo.InvariantCulture, $"previous revision {DeploymentRevisions.Of(previous)} ({previous.Metadata.Name}, image {DiagnosisText.Images(previous)}): {ready}/{previous.Spec.Replicas ?? 0} replicas ready"),
                new Dictionary<string, string> { ["revision"] = Number(DeploymentRevisions.Of(previous)), ["replicaSet"] = previous.Metadata.Name, ["image"] = DiagnosisText.Images(previous), ["readyReplicas"] = Number(ready) }));
        }
        if (view.Deployment.Spec.Paused == true)
        {
            evidence.Add(new Evidence("kubernetes", $"rollout of {view.Target} is paused", new Dictionary<string, string> { ["paused"] = "true" }));
        }
        if (view.Deployment.Status?.Conditions?.FirstOrDefault(c => c.Type == "Progressing" && c.Status == "False") is { } stalled)
        {
            evidence.Add(new Evidence("kubernetes", $"rollout not progressing: {stalled.Reason}: {stalled.Message}", new Dictionary<string, string> { ["reason"] = stalled.Reason ?? "" }));
        }
        return evidence;
    }

    public static IEnumerable<Evidence> Events(IEnumerable<Corev1Event> events, int max) => events.Take(max).Select(e =>
        new Evidence("kubernetes", $"event {e.Reason} on pod {e.InvolvedObject.Name} (x{e.Count ?? 1}): {e.Message}",
            new Dictionary<string, string>
            {
                ["kind"] = "event", ["pod"] = e.InvolvedObject.Name ?? "", ["reason"] = e.Reason ?? "", ["count"] = Number(e.Count ?? 1),
                ["message"] = e.Message ?? "", ["lastTimestamp"] = (e.LastTimestamp ?? e.EventTime)?.ToString("o", CultureInfo.InvariantCulture) ?? "",
            }));

    public static IEnumerable<Evidence> Logs(IEnumerable<ContainerLogLine>? lines, int max) => (lines ?? []).Take(max).Select(line =>
        new Evidence("log analytics", $"log {line.Pod}/{line.Container}: {DiagnosisText.Truncate(line.Message, LogTextLength)}",
            new Dictionary<string, string>
            {
                ["kind"] = "log", ["pod"] = line.Pod, ["container"] = line.Container ?? "", ["time"] = line.TimeGenerated.ToString("o", CultureInfo.InvariantCulture), ["message"] = line.Message,
            }));

    public static IEnumerable<Evidence> Inventory(IEnumerable<PodInventoryRow>? rows) =>
        (rows ?? []).Where(r => r.ContainerStatusReason is { Length: > 0 } || r.RestartCount > 0).Take(InventoryRows).Select(r =>
            new Evidence("log analytics",
                $"KubePodInventory {r.Pod}/{r.Container}: {r.PodStatus}, {r.ContainerStatus} {r.ContainerStatusReason}, {r.RestartCount} restarts",
                new Dictionary<string, string>
                {
                    ["kind"] = "KubePodInventory", ["pod"] = r.Pod, ["container"] = r.Container ?? "", ["containerStatusReason"] = r.ContainerStatusReason ?? "",
                    ["restarts"] = Number(r.RestartCount), ["time"] = r.TimeGenerated.ToString("o", CultureInfo.InvariantCulture),
                }));

    public static IEnumerable<Evidence> Hpa(HpaState? hpa) => hpa is null ? [] : [new Evidence("kubernetes", hpa.Describe(), hpa.Data())];

    /// <summary>The Istio signals per workload and version, with the baseline; the degraded version marked when there is one.</summary>
    public static IEnumerable<Evidence> Signals(MeshReading reading, string? degradedVersion)
    {
        foreach (var s in reading.Current ?? [])
        {
            var data = s.Data();
            data["kind"] = "istio";
            if (degradedVersion is not null)
            {
                data["degraded"] = s.Version == degradedVersion ? "true" : "false";
            }
            var before = reading.Baseline?.FirstOrDefault(x => x.Workload == s.Workload && x.Version == s.Version);
            foreach (var (k, v) in before?.Data("baseline.") ?? [])
            {
                data[k] = v;
            }
            var baselineText = before is null ? "" : string.Create(CultureInfo.InvariantCulture, $" (baseline: 5xx {VersionSignals.Percent(before.ErrorRatio)}, p99 {before.P99Ms:0.#} ms)");
            yield return new Evidence("prometheus", "istio " + s.Describe() + baselineText, data);
        }
    }

    private static string Number(long value) => value.ToString(CultureInfo.InvariantCulture);
}
