using k8s;
using k8s.Models;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Cluster;

namespace Remediation.Kubernetes;

/// <summary>
/// The cluster writer over KubernetesClient. Its dry-run flag is fixed at construction: a dry-run writer sends every
/// call with dryRun=All. Names are validated before they become path segments, as in <see cref="KubernetesClusterReader"/>.
/// </summary>
public sealed class KubernetesClusterWriter(IKubernetes client, TimeProvider timeProvider, bool dryRun) : IClusterWriter
{
    public bool DryRun { get; } = dryRun;

    public async Task<string?> ApplyAsync(Mutation mutation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        KubernetesNames.EnsureValid(mutation.Namespace, mutation.Name);
        var (ns, name) = (mutation.Namespace, mutation.Name);
        var dry = DryRun ? "All" : null;
        return await ClusterCall.RunAsync(async ct =>
        {
            switch (mutation.Kind)
            {
                case MutationKind.PatchDeployment:
                    return (await client.AppsV1.PatchNamespacedDeploymentAsync(Patch(mutation), name, ns, dryRun: dry, cancellationToken: ct).ConfigureAwait(false)).Metadata.ResourceVersion;
                case MutationKind.PatchDeploymentScale:
                    return (await client.AppsV1.PatchNamespacedDeploymentScaleAsync(Patch(mutation), name, ns, dryRun: dry, cancellationToken: ct).ConfigureAwait(false)).Metadata.ResourceVersion;
                case MutationKind.PatchHorizontalPodAutoscaler:
                    return (await client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerAsync(Patch(mutation), name, ns, dryRun: dry, cancellationToken: ct).ConfigureAwait(false)).Metadata.ResourceVersion;
                case MutationKind.PatchVirtualService:
                    return ResourceVersionOf(await client.CustomObjects.PatchNamespacedCustomObjectAsync(Patch(mutation), CustomResource.VirtualService.Group, CustomResource.VirtualService.Version, ns, CustomResource.VirtualService.Plural, name, dryRun: dry, cancellationToken: ct).ConfigureAwait(false));
                case MutationKind.PatchHttpRoute:
                    return ResourceVersionOf(await client.CustomObjects.PatchNamespacedCustomObjectAsync(Patch(mutation), CustomResource.HttpRoute.Group, CustomResource.HttpRoute.Version, ns, CustomResource.HttpRoute.Plural, name, dryRun: dry, cancellationToken: ct).ConfigureAwait(false));
                case MutationKind.DeletePod:
                    var options = new V1DeleteOptions { Preconditions = mutation.ResourceVersion is { } rv ? new V1Preconditions { ResourceVersion = rv } : null };
                    await client.CoreV1.DeleteNamespacedPodAsync(name, ns, options, dryRun: dry, cancellationToken: ct).ConfigureAwait(false);
                    return null;
                default:
                    throw new ArgumentOutOfRangeException(nameof(mutation), mutation.Kind, "unknown mutation kind");
            }
        }, timeProvider, cancellationToken).ConfigureAwait(false);
    }

    private static V1Patch Patch(Mutation mutation) => new(mutation.Patch ?? "{}", mutation.PatchType switch
    {
        "json" => V1Patch.PatchType.JsonPatch,
        "merge" => V1Patch.PatchType.MergePatch,
        "strategic" => V1Patch.PatchType.StrategicMergePatch,
        _ => throw new ArgumentException($"unknown patch type '{mutation.PatchType}'", nameof(mutation)),
    });

    private static string? ResourceVersionOf(object result) =>
        KubernetesClusterReader.AsJson(result)?["metadata"]?["resourceVersion"]?.GetValue<string>();
}

/// <summary>The live and the dry-run writer, made once.</summary>
public sealed class KubernetesClusterWriters(IKubernetes client, TimeProvider timeProvider) : IClusterWriters
{
    private readonly KubernetesClusterWriter _live = new(client, timeProvider, dryRun: false);
    private readonly KubernetesClusterWriter _dry = new(client, timeProvider, dryRun: true);

    public IClusterWriter For(bool dryRun) => dryRun ? _dry : _live;
}
