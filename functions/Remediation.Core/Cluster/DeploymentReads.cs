using k8s.Models;

namespace Remediation.Cluster;

/// <summary>
/// The reads of one Deployment's family that diagnosis, planning and verification share, so they see the same
/// ReplicaSets: a ReplicaSet belongs to a Deployment only through an ownerReference to it (never by label alone).
/// </summary>
public static class DeploymentReads
{
    public static string? Selector(V1Deployment deployment)
    {
        ArgumentNullException.ThrowIfNull(deployment);
        return deployment.Spec.Selector?.MatchLabels is { Count: > 0 } labels ? string.Join(",", labels.Select(l => $"{l.Key}={l.Value}")) : null;
    }

    public static bool IsOwnedBy(V1ObjectMeta metadata, string kind, string name) =>
        metadata?.OwnerReferences?.Any(o => o.Kind == kind && o.Name == name && o.Controller != false) ?? false;

    /// <summary>The ReplicaSets the Deployment owns, newest revision first.</summary>
    public static async Task<List<V1ReplicaSet>> ReplicaSetsOfAsync(this IClusterReader reader, V1Deployment deployment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(deployment);
        var list = await reader.ListReplicaSetsAsync(deployment.Metadata.NamespaceProperty, Selector(deployment), cancellationToken).ConfigureAwait(false);
        return list.Where(rs => IsOwnedBy(rs.Metadata, "Deployment", deployment.Metadata.Name)).OrderByDescending(DeploymentRevisions.Of).ToList();
    }

    /// <summary>The pods matching the Deployment's selector.</summary>
    public static Task<IReadOnlyList<V1Pod>> PodsOfAsync(this IClusterReader reader, V1Deployment deployment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(deployment);
        return reader.ListPodsAsync(deployment.Metadata.NamespaceProperty, Selector(deployment), cancellationToken);
    }

    /// <summary>The HPA that scales the Deployment, if any.</summary>
    public static async Task<V2HorizontalPodAutoscaler?> HorizontalPodAutoscalerOfAsync(this IClusterReader reader, V1Deployment deployment, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        ArgumentNullException.ThrowIfNull(deployment);
        var list = await reader.ListHorizontalPodAutoscalersAsync(deployment.Metadata.NamespaceProperty, cancellationToken).ConfigureAwait(false);
        return list.FirstOrDefault(h => h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == deployment.Metadata.Name);
    }
}
