using System.Globalization;
using k8s.Models;

namespace Remediation.Cluster;

/// <summary>Deployment revision bookkeeping as the deployment controller writes it.</summary>
public static class DeploymentRevisions
{
    public const string RevisionAnnotation = "deployment.kubernetes.io/revision";
    public const string PodTemplateHashLabel = "pod-template-hash";

    public static long Of(V1ReplicaSet rs)
    {
        ArgumentNullException.ThrowIfNull(rs);
        return rs.Metadata.Annotations?.TryGetValue(RevisionAnnotation, out var value) == true
            && long.TryParse(value, CultureInfo.InvariantCulture, out var revision) ? revision : 0;
    }

    public static string? PodTemplateHash(V1ObjectMeta metadata) =>
        metadata?.Labels is { } labels && labels.TryGetValue(PodTemplateHashLabel, out var hash) ? hash : null;
}
