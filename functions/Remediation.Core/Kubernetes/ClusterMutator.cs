using System.Text.Json.Nodes;
using k8s;
using k8s.Models;
using Remediation.Actions;

namespace Remediation.Kubernetes;

/// <summary>Applies a plan's mutations through KubernetesClient, live or with dryRun=All.</summary>
public sealed class ClusterMutator(IKubernetes client, TimeProvider timeProvider)
{
    public const string IstioGroup = "networking.istio.io";
    public const string IstioVersion = "v1";
    public const string GatewayGroup = "gateway.networking.k8s.io";
    public const string GatewayVersion = "v1";

    /// <summary>Applies one mutation; returns the object's resourceVersion after the call (dry run: what it would be).</summary>
    public async Task<string?> ApplyAsync(Mutation mutation, bool dryRun, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        var dry = dryRun ? "All" : null;
        return await ClusterCall.RunAsync(async ct =>
        {
            switch (mutation.Kind)
            {
                case MutationKind.PatchDeployment:
                    var deployment = await client.AppsV1.PatchNamespacedDeploymentAsync(Patch(mutation), mutation.Name, mutation.Namespace, dryRun: dry, cancellationToken: ct).ConfigureAwait(false);
                    return deployment.Metadata.ResourceVersion;
                case MutationKind.PatchDeploymentScale:
                    var scale = await client.AppsV1.PatchNamespacedDeploymentScaleAsync(Patch(mutation), mutation.Name, mutation.Namespace, dryRun: dry, cancellationToken: ct).ConfigureAwait(false);
                    return scale.Metadata.ResourceVersion;
                case MutationKind.PatchHorizontalPodAutoscaler:
                    var hpa = await client.AutoscalingV2.PatchNamespacedHorizontalPodAutoscalerAsync(Patch(mutation), mutation.Name, mutation.Namespace, dryRun: dry, cancellationToken: ct).ConfigureAwait(false);
                    return hpa.Metadata.ResourceVersion;
                case MutationKind.PatchVirtualService:
                    return ResourceVersionOf(await client.CustomObjects.PatchNamespacedCustomObjectAsync(Patch(mutation), IstioGroup, IstioVersion, mutation.Namespace, "virtualservices", mutation.Name, dryRun: dry, cancellationToken: ct).ConfigureAwait(false));
                case MutationKind.PatchHttpRoute:
                    return ResourceVersionOf(await client.CustomObjects.PatchNamespacedCustomObjectAsync(Patch(mutation), GatewayGroup, GatewayVersion, mutation.Namespace, "httproutes", mutation.Name, dryRun: dry, cancellationToken: ct).ConfigureAwait(false));
                case MutationKind.DeletePod:
                    var options = new V1DeleteOptions { Preconditions = mutation.ResourceVersion is { } rv ? new V1Preconditions { ResourceVersion = rv } : null };
                    await client.CoreV1.DeleteNamespacedPodAsync(mutation.Name, mutation.Namespace, options, dryRun: dry, cancellationToken: ct).ConfigureAwait(false);
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

    private static string? ResourceVersionOf(object result) => result switch
    {
        System.Text.Json.JsonElement element when element.TryGetProperty("metadata", out var metadata) && metadata.TryGetProperty("resourceVersion", out var rv) => rv.GetString(),
        JsonNode node => node["metadata"]?["resourceVersion"]?.GetValue<string>(),
        _ => null,
    };
}
