using System.Globalization;
using System.Net;
using k8s;
using k8s.Models;
using Remediation.Alerts;
using Remediation.Kubernetes;

namespace Remediation.Diagnosis;

/// <summary>Diagnoses a Deployment from its ReplicaSets (by revision) and the state of their pods.</summary>
public sealed class KubernetesDiagnoser(IKubernetes client, TimeProvider timeProvider) : IDiagnoser
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";

    public async Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(alert);
        ArgumentNullException.ThrowIfNull(target);
        V1Deployment deployment;
        try
        {
            deployment = await ClusterCall.RunAsync(ct => client.AppsV1.ReadNamespacedDeploymentAsync(target.Name, target.Namespace, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterCall.IsStatus(ex, HttpStatusCode.NotFound))
        {
            return new DiagnosisResult
            {
                Class = FailureClass.NotFound, Target = target, Component = target.ToString(), Confidence = 1,
                Summary = $"Deployment {target} does not exist",
                Evidence = [new Evidence("kubernetes", $"GET deployments/{target.Name} in {target.Namespace}: 404 Not Found")],
            };
        }
        var selector = deployment.Spec.Selector?.MatchLabels is { Count: > 0 } labels
            ? string.Join(",", labels.Select(l => $"{l.Key}={l.Value}"))
            : null;
        var replicaSets = await ClusterCall.RunAsync(ct => client.AppsV1.ListNamespacedReplicaSetAsync(target.Namespace, labelSelector: selector, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        var pods = await ClusterCall.RunAsync(ct => client.CoreV1.ListNamespacedPodAsync(target.Namespace, labelSelector: selector, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);

        var owned = replicaSets.Items
            .Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Kind == "Deployment" && o.Name == deployment.Metadata.Name) ?? true)
            .OrderByDescending(Revision)
            .ToList();
        var evidence = new List<Evidence>();
        var newest = owned.FirstOrDefault();
        var previous = owned.Skip(1).FirstOrDefault();
        var newestPods = newest is null ? pods.Items.ToList() : pods.Items.Where(p => PodTemplateHash(p) == PodTemplateHash(newest)).ToList();
        var podStates = newestPods.Select(PodState.Of).ToList();
        foreach (var state in podStates)
        {
            evidence.Add(new Evidence("kubernetes", state.Describe(), state.Data()));
        }
        if (newest is not null)
        {
            var age = timeProvider.GetUtcNow() - (newest.Metadata.CreationTimestamp ?? DateTime.MinValue);
            evidence.Add(new Evidence("kubernetes",
                string.Create(CultureInfo.InvariantCulture, $"newest revision {Revision(newest)} ({newest.Metadata.Name}, image {Images(newest)}) appeared {FormatAge(age)} ago"),
                new Dictionary<string, string> { ["revision"] = Revision(newest).ToString(CultureInfo.InvariantCulture), ["replicaSet"] = newest.Metadata.Name, ["ageSeconds"] = ((long)age.TotalSeconds).ToString(CultureInfo.InvariantCulture) }));
        }
        if (deployment.Spec.Paused == true)
        {
            evidence.Add(new Evidence("kubernetes", $"rollout of {target} is paused"));
        }

        var failing = podStates.Where(s => s.Failure is not null).ToList();
        if (failing.Count == 0 && podStates.Count > 0 && podStates.All(s => s.Ready))
        {
            return Result(FailureClass.Healthy, target, target.ToString(), 0.8, $"all {podStates.Count} pods of {target} are ready; the alert looks stale", evidence);
        }
        if (failing.Count == 0)
        {
            return Result(FailureClass.Unknown, target, target.ToString(), 0.3, $"{target}: no failing container state found", evidence);
        }
        var dominant = failing.GroupBy(s => s.Failure!.Value).OrderByDescending(g => g.Count()).First().Key;
        if (dominant is FailureClass.CrashLoop or FailureClass.ImagePull && previous is not null && newest is not null)
        {
            var revision = Revision(newest);
            return Result(FailureClass.BadRollout, target, $"{target.Name}@{revision}", 0.85,
                $"revision {revision} of {target} fails ({dominant}) while revision {Revision(previous)} ran before it", evidence) with
            {
                FailingRevision = revision,
                HealthyRevision = Revision(previous),
            };
        }
        return Result(dominant, target, newest is null ? target.ToString() : $"{target.Name}@{Revision(newest)}", 0.75,
            $"{failing.Count} of {podStates.Count} pods of {target}: {dominant}", evidence);
    }

    private static DiagnosisResult Result(FailureClass cls, WorkloadTarget target, string component, double confidence, string summary, List<Evidence> evidence) =>
        new() { Class = cls, Target = target, Component = component, Confidence = confidence, Summary = summary, Evidence = evidence };

    public static long Revision(V1ReplicaSet rs) =>
        rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var value) == true && long.TryParse(value, CultureInfo.InvariantCulture, out var revision) ? revision : 0;

    private static string? PodTemplateHash(V1Pod pod) => (pod.Metadata.Labels is { } l && l.TryGetValue("pod-template-hash", out var h) ? h : null);

    private static string? PodTemplateHash(V1ReplicaSet rs) => (rs.Metadata.Labels is { } l && l.TryGetValue("pod-template-hash", out var h) ? h : null);

    private static string Images(V1ReplicaSet rs) => string.Join(",", rs.Spec.Template.Spec.Containers.Select(c => c.Image));

    private static string FormatAge(TimeSpan age) => age.TotalMinutes < 1 ? $"{(int)age.TotalSeconds}s" : age.TotalHours < 1 ? $"{(int)age.TotalMinutes}m" : $"{(int)age.TotalHours}h";

    /// <summary>The failure state of one pod, read from its container statuses and conditions.</summary>
    private sealed record PodState(string Name, bool Ready, FailureClass? Failure, string? Reason, int Restarts, string? Detail)
    {
        public static PodState Of(V1Pod pod)
        {
            var statuses = pod.Status?.ContainerStatuses ?? [];
            var restarts = statuses.Sum(s => s.RestartCount);
            var ready = statuses.Count > 0 && statuses.All(s => s.Ready);
            foreach (var status in statuses)
            {
                var waiting = status.State?.Waiting?.Reason;
                var lastTerminated = status.LastState?.Terminated?.Reason ?? status.State?.Terminated?.Reason;
                if (lastTerminated == "OOMKilled")
                {
                    return new PodState(pod.Metadata.Name, ready, FailureClass.OutOfMemory, "OOMKilled", restarts, $"container {status.Name} OOMKilled");
                }
                if (waiting is "ImagePullBackOff" or "ErrImagePull" or "InvalidImageName")
                {
                    return new PodState(pod.Metadata.Name, ready, FailureClass.ImagePull, waiting, restarts, $"container {status.Name} image {status.Image}: {waiting}");
                }
                if (waiting == "CrashLoopBackOff" || lastTerminated == "Error")
                {
                    return new PodState(pod.Metadata.Name, ready, FailureClass.CrashLoop, waiting ?? lastTerminated, restarts, $"container {status.Name} {waiting ?? lastTerminated}, {status.RestartCount} restarts");
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

        public Dictionary<string, string> Data() => new()
        {
            ["pod"] = Name,
            ["ready"] = Ready ? "true" : "false",
            ["restarts"] = Restarts.ToString(CultureInfo.InvariantCulture),
            ["reason"] = Reason ?? "",
        };
    }
}
