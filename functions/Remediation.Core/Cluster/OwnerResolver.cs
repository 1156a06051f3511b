using k8s.Models;
using Remediation.Alerts;

namespace Remediation.Cluster;

/// <summary>Where an alert's object leads in the cluster: the owning workload and the chain that proves it.</summary>
public sealed record OwnerResolution(WorkloadTarget? Owner, IReadOnlyList<string> Chain, string? Problem)
{
    public string Path => string.Join(" → ", Chain);
}

/// <summary>
/// Resolves a target reference to the workload that owns it, from the cluster and never from the shape of a name:
/// Pod → controller ownerReference → ReplicaSet → Deployment; StatefulSet, DaemonSet, Job → CronJob; a pod without a
/// controller is its own owner; an HPA leads to its scaleTargetRef. A pod that no longer exists is resolved through the
/// namespace's ReplicaSets (a ReplicaSet whose name, ending in its pod-template-hash, plus a 5-character suffix is the
/// pod's name); when none or several match, the resolution fails and says so.
/// </summary>
public sealed class OwnerResolver(IClusterReader reader)
{
    private const int MaxDepth = 4;

    /// <summary>The resolution of a workload that has no owner to resolve (a Deployment, a StatefulSet): itself, without a read.</summary>
    public static OwnerResolution Itself(WorkloadTarget target)
    {
        ArgumentNullException.ThrowIfNull(target);
        return new OwnerResolution(target, [Describe(target.Kind, target.Name)], null);
    }

    public async Task<OwnerResolution> ResolveAsync(WorkloadTarget target, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(target);
        try
        {
            return await ResolveReadingAsync(target, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ClusterCall.IsStatus(ex, System.Net.HttpStatusCode.Forbidden))
        {
            // An object on the way the remediator may not read: its owner is unknown, a human must look (not a failure
            // retried until the work item is poisoned).
            return Fail([Describe(target.Kind, target.Name)],
                $"reading the ownership chain was refused ({ClusterCall.Describe(ex)}); the remediator's Role (infra/kubernetes/rbac.template.yaml) does not grant it");
        }
    }

    private async Task<OwnerResolution> ResolveReadingAsync(WorkloadTarget target, CancellationToken cancellationToken)
    {
        if (!WorkloadKinds.HasOwnerToResolve(target.Kind))
        {
            return Itself(target);
        }
        var chain = new List<string> { Describe(target.Kind, target.Name) };
        var ns = target.Namespace;
        var (kind, name) = (target.Kind, target.Name);
        if (kind == WorkloadKinds.HorizontalPodAutoscaler)
        {
            return await ScaleTargetOfAsync(ns, name, chain, cancellationToken).ConfigureAwait(false);
        }
        var metadata = await reader.GetMetadataAsync(kind, ns, name, cancellationToken).ConfigureAwait(false);
        if (metadata is null)
        {
            if (kind != WorkloadKinds.Pod)
            {
                return Fail(chain, $"{kind} {ns}/{name} does not exist");
            }
            // The pod is gone (replaced, evicted): find the ReplicaSet it came from, by its pod-template-hash.
            var rs = await ReplicaSetOfDeletedPodAsync(ns, name, cancellationToken).ConfigureAwait(false);
            if (rs.Problem is not null)
            {
                return Fail(chain, rs.Problem);
            }
            chain[0] += " (deleted)";
            (kind, metadata) = (WorkloadKinds.ReplicaSet, rs.Metadata!);
            name = metadata.Name;
            chain.Add(Describe(kind, name));
        }
        return await FollowControllersAsync(target, kind, name, metadata, chain, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>From an object up its controlling ownerReferences to the first workload the product knows.</summary>
    private async Task<OwnerResolution> FollowControllersAsync(WorkloadTarget target, string kind, string name, V1ObjectMeta metadata, List<string> chain,
        CancellationToken cancellationToken)
    {
        var ns = target.Namespace;
        for (var depth = 0; depth < MaxDepth; depth++)
        {
            var controller = metadata.OwnerReferences?.FirstOrDefault(o => o.Controller == true);
            if (controller is null)
            {
                // No controller: a bare pod (or an orphaned ReplicaSet/Job) is its own owner.
                return kind is WorkloadKinds.Pod or WorkloadKinds.Job
                    ? new OwnerResolution(new WorkloadTarget(ns, name, kind), chain, null)
                    : Fail(chain, $"{kind} {ns}/{name} has no controlling owner");
            }
            if (!KubernetesNames.IsSubdomain(controller.Name))
            {
                return Fail(chain, $"{kind} {ns}/{name} names an owner {KubernetesNames.Quote(controller.Name)} that is not a valid name");
            }
            chain.Add(Describe(controller.Kind, controller.Name));
            switch (controller.Kind)
            {
                case WorkloadKinds.Deployment or WorkloadKinds.StatefulSet or WorkloadKinds.DaemonSet or WorkloadKinds.CronJob:
                    return new OwnerResolution(new WorkloadTarget(ns, controller.Name, controller.Kind), chain, null);
                case WorkloadKinds.ReplicaSet or WorkloadKinds.Job:
                    var next = await reader.GetMetadataAsync(controller.Kind, ns, controller.Name, cancellationToken).ConfigureAwait(false);
                    if (next is null)
                    {
                        return Fail(chain, $"{controller.Kind} {ns}/{controller.Name} that owns {kind} {name} does not exist");
                    }
                    (kind, name, metadata) = (controller.Kind, controller.Name, next);
                    break;
                default:
                    return Fail(chain, $"{kind} {ns}/{name} is controlled by {controller.Kind} {controller.Name}, which the product does not act on");
            }
        }
        return Fail(chain, $"ownership of {target} is deeper than {MaxDepth} levels");
    }

    /// <summary>An HPA leads to the workload its scaleTargetRef names (when that is a workload the product knows).</summary>
    private async Task<OwnerResolution> ScaleTargetOfAsync(string ns, string name, List<string> chain, CancellationToken cancellationToken)
    {
        var hpa = await reader.GetHorizontalPodAutoscalerAsync(ns, name, cancellationToken).ConfigureAwait(false);
        if (hpa is null)
        {
            return Fail(chain, $"HorizontalPodAutoscaler {ns}/{name} does not exist");
        }
        var scaled = hpa.Spec.ScaleTargetRef;
        if (!WorkloadKinds.Workloads.Contains(scaled.Kind ?? "") || !KubernetesNames.IsSubdomain(scaled.Name))
        {
            return Fail(chain, $"HorizontalPodAutoscaler {ns}/{name} scales {scaled.Kind} {KubernetesNames.Quote(scaled.Name)}, which is not a workload the product knows");
        }
        chain.Add(Describe(scaled.Kind!, scaled.Name));
        return new OwnerResolution(new WorkloadTarget(ns, scaled.Name, scaled.Kind!), chain, null);
    }

    private async Task<(V1ObjectMeta? Metadata, string? Problem)> ReplicaSetOfDeletedPodAsync(string ns, string pod, CancellationToken cancellationToken)
    {
        var replicaSets = await reader.ListReplicaSetsAsync(ns, null, cancellationToken).ConfigureAwait(false);
        var matches = replicaSets
            .Where(rs => DeploymentRevisions.PodTemplateHash(rs.Metadata) is { Length: > 0 } hash
                && rs.Metadata.Name.EndsWith("-" + hash, StringComparison.Ordinal)
                && pod.Length == rs.Metadata.Name.Length + 6
                && pod.StartsWith(rs.Metadata.Name + "-", StringComparison.Ordinal))
            .ToList();
        return matches.Count switch
        {
            1 => (matches[0].Metadata, null),
            0 => (null, $"pod {ns}/{pod} no longer exists and no ReplicaSet of {ns} matches its name and pod-template-hash"),
            _ => (null, $"pod {ns}/{pod} no longer exists and {matches.Count} ReplicaSets match its name ({string.Join(", ", matches.Select(m => m.Metadata.Name))})"),
        };
    }

    private static OwnerResolution Fail(List<string> chain, string problem) => new(null, chain, problem);

    private static string Describe(string kind, string name) => $"{kind.ToLowerInvariant()}/{name}";
}
