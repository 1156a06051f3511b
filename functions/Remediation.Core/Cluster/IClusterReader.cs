using System.Text.Json.Nodes;
using k8s.Models;

namespace Remediation.Cluster;

/// <summary>A custom resource the product reads or patches (Istio, Gateway API).</summary>
public sealed record CustomResource(string Group, string Version, string Plural)
{
    public static readonly CustomResource VirtualService = new("networking.istio.io", "v1", "virtualservices");
    public static readonly CustomResource DestinationRule = new("networking.istio.io", "v1", "destinationrules");
    public static readonly CustomResource HttpRoute = new("gateway.networking.k8s.io", "v1", "httproutes");
}

/// <summary>
/// Every read of the cluster the product makes: diagnosis, owner resolution, planning, verification and the CLI go
/// through this port, never through a Kubernetes client directly. Names are validated before they reach a URL; an
/// absent object is null (or an empty list), a transient fault is a TransientDependencyException.
/// </summary>
public interface IClusterReader
{
    Task<V1Deployment?> GetDeploymentAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    Task<V1Pod?> GetPodAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <summary>The metadata (labels, ownerReferences) of a ReplicaSet, StatefulSet, DaemonSet, Job, CronJob or Pod; null when absent.</summary>
    Task<V1ObjectMeta?> GetMetadataAsync(string kind, string @namespace, string name, CancellationToken cancellationToken = default);

    Task<V2HorizontalPodAutoscaler?> GetHorizontalPodAutoscalerAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<V1ReplicaSet>> ListReplicaSetsAsync(string @namespace, string? labelSelector, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<V1Pod>> ListPodsAsync(string @namespace, string? labelSelector, CancellationToken cancellationToken = default);

    /// <summary>Warning events about one pod (at most <paramref name="limit"/>).</summary>
    Task<IReadOnlyList<Corev1Event>> ListPodWarningEventsAsync(string @namespace, string podName, int limit, CancellationToken cancellationToken = default);

    Task<IReadOnlyList<V2HorizontalPodAutoscaler>> ListHorizontalPodAutoscalersAsync(string @namespace, CancellationToken cancellationToken = default);

    /// <summary>Custom objects of a namespace as JSON; an absent CRD gives an empty list.</summary>
    Task<IReadOnlyList<JsonObject>> ListCustomObjectsAsync(CustomResource resource, string @namespace, CancellationToken cancellationToken = default);

    /// <summary>The current object a mutation targets, as JSON (null when absent): how a resumed action sees what was applied.</summary>
    Task<JsonObject?> GetTargetOfAsync(Mutation mutation, CancellationToken cancellationToken = default);
}
