using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Remediation.Actions;
using Remediation.Alerts;
using Remediation.Cluster;

namespace Remediation.Kubernetes;

/// <summary>
/// The cluster reader over KubernetesClient. Every namespace and name is checked against the Kubernetes name rules
/// before it becomes a path segment: RFC 1123 names contain only [a-z0-9.-], which need no escaping, so a request path
/// always names exactly the validated object. Transient faults are retried (<see cref="ClusterCall"/>); 404 is absent.
/// </summary>
public sealed class KubernetesClusterReader(IKubernetes client, TimeProvider timeProvider) : IClusterReader
{
    public Task<V1Deployment?> GetDeploymentAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(@namespace, name, ct => client.AppsV1.ReadNamespacedDeploymentAsync(name, @namespace, cancellationToken: ct), cancellationToken);

    public Task<V1Pod?> GetPodAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(@namespace, name, ct => client.CoreV1.ReadNamespacedPodAsync(name, @namespace, cancellationToken: ct), cancellationToken);

    public Task<V2HorizontalPodAutoscaler?> GetHorizontalPodAutoscalerAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        GetOrNullAsync(@namespace, name, ct => client.AutoscalingV2.ReadNamespacedHorizontalPodAutoscalerAsync(name, @namespace, cancellationToken: ct), cancellationToken);

    public async Task<V1ObjectMeta?> GetMetadataAsync(string kind, string @namespace, string name, CancellationToken cancellationToken = default) => kind switch
    {
        WorkloadKinds.Deployment => (await GetDeploymentAsync(@namespace, name, cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.Pod => (await GetPodAsync(@namespace, name, cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.ReplicaSet => (await GetOrNullAsync(@namespace, name, ct => client.AppsV1.ReadNamespacedReplicaSetAsync(name, @namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.StatefulSet => (await GetOrNullAsync(@namespace, name, ct => client.AppsV1.ReadNamespacedStatefulSetAsync(name, @namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.DaemonSet => (await GetOrNullAsync(@namespace, name, ct => client.AppsV1.ReadNamespacedDaemonSetAsync(name, @namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.Job => (await GetOrNullAsync(@namespace, name, ct => client.BatchV1.ReadNamespacedJobAsync(name, @namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.CronJob => (await GetOrNullAsync(@namespace, name, ct => client.BatchV1.ReadNamespacedCronJobAsync(name, @namespace, cancellationToken: ct), cancellationToken).ConfigureAwait(false))?.Metadata,
        WorkloadKinds.HorizontalPodAutoscaler => (await GetHorizontalPodAutoscalerAsync(@namespace, name, cancellationToken).ConfigureAwait(false))?.Metadata,
        _ => throw new ArgumentException($"kind '{kind}' is not read by the product", nameof(kind)),
    };

    public async Task<IReadOnlyList<V1ReplicaSet>> ListReplicaSetsAsync(string @namespace, string? labelSelector, CancellationToken cancellationToken = default)
    {
        EnsureNamespace(@namespace);
        var list = await ClusterCall.RunAsync(ct => client.AppsV1.ListNamespacedReplicaSetAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return [.. list.Items];
    }

    public async Task<IReadOnlyList<V1Pod>> ListPodsAsync(string @namespace, string? labelSelector, CancellationToken cancellationToken = default)
    {
        EnsureNamespace(@namespace);
        var list = await ClusterCall.RunAsync(ct => client.CoreV1.ListNamespacedPodAsync(@namespace, labelSelector: labelSelector, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return [.. list.Items];
    }

    /// <summary>The field selector of a pod's own warning events (the benchmark's physical limit reads with it too).</summary>
    public static string PodWarningEventsSelector(string podName) => "type=Warning,involvedObject.kind=Pod,involvedObject.name=" + podName;

    public async Task<IReadOnlyList<Corev1Event>> ListPodWarningEventsAsync(string @namespace, string podName, int limit, CancellationToken cancellationToken = default)
    {
        // The pod's own events (as kubectl describe pod reads them), not the namespace's first warnings: in a namespace of
        // many failing workloads those are other pods' events.
        KubernetesNames.EnsureValid(@namespace, podName);
        var list = await ClusterCall.RunAsync(ct => client.CoreV1.ListNamespacedEventAsync(@namespace, fieldSelector: PodWarningEventsSelector(podName), limit: limit, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return [.. list.Items];
    }

    public async Task<IReadOnlyList<V2HorizontalPodAutoscaler>> ListHorizontalPodAutoscalersAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        EnsureNamespace(@namespace);
        var list = await ClusterCall.RunAsync(ct => client.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerAsync(@namespace, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return [.. list.Items];
    }

    public async Task<IReadOnlyList<JsonObject>> ListCustomObjectsAsync(CustomResource resource, string @namespace, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(resource);
        EnsureNamespace(@namespace);
        object result;
        try
        {
            result = await ClusterCall.RunAsync(ct => client.CustomObjects.ListNamespacedCustomObjectAsync(resource.Group, resource.Version, @namespace, resource.Plural, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            // The CRD is not installed: nothing routes through it.
            return [];
        }
        return AsJson(result)?["items"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
    }

    public async Task<JsonObject?> GetTargetOfAsync(Mutation mutation, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        var (ns, name) = (mutation.Namespace, mutation.Name);
        object? current = mutation.Kind switch
        {
            MutationKind.PatchDeployment => await GetDeploymentAsync(ns, name, cancellationToken).ConfigureAwait(false),
            MutationKind.PatchDeploymentScale => await GetOrNullAsync(ns, name, ct => client.AppsV1.ReadNamespacedDeploymentScaleAsync(name, ns, cancellationToken: ct), cancellationToken).ConfigureAwait(false),
            MutationKind.PatchHorizontalPodAutoscaler => await GetHorizontalPodAutoscalerAsync(ns, name, cancellationToken).ConfigureAwait(false),
            MutationKind.PatchVirtualService => await GetCustomAsync(CustomResource.VirtualService, ns, name, cancellationToken).ConfigureAwait(false),
            MutationKind.PatchHttpRoute => await GetCustomAsync(CustomResource.HttpRoute, ns, name, cancellationToken).ConfigureAwait(false),
            MutationKind.DeletePod => await GetPodAsync(ns, name, cancellationToken).ConfigureAwait(false),
            _ => throw new ArgumentOutOfRangeException(nameof(mutation), mutation.Kind, "unknown mutation kind"),
        };
        return current is null ? null : AsJson(current);
    }

    private Task<object?> GetCustomAsync(CustomResource resource, string @namespace, string name, CancellationToken cancellationToken) =>
        GetOrNullAsync(@namespace, name, ct => client.CustomObjects.GetNamespacedCustomObjectAsync(resource.Group, resource.Version, @namespace, resource.Plural, name, cancellationToken: ct), cancellationToken);

    private async Task<T?> GetOrNullAsync<T>(string @namespace, string name, Func<CancellationToken, Task<T>> read, CancellationToken cancellationToken) where T : class
    {
        KubernetesNames.EnsureValid(@namespace, name);
        try
        {
            return await ClusterCall.RunAsync(read, timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (HttpOperationException ex) when (ex.Response.StatusCode == HttpStatusCode.NotFound)
        {
            return null;
        }
    }

    private static void EnsureNamespace(string @namespace)
    {
        if (!KubernetesNames.IsLabel(@namespace))
        {
            throw new ArgumentException($"namespace {KubernetesNames.Quote(@namespace)} is not {KubernetesNames.LabelRule}", nameof(@namespace));
        }
    }

    internal static JsonObject? AsJson(object result) => (result switch
    {
        JsonElement element => JsonNode.Parse(element.GetRawText()),
        JsonNode node => node,
        _ => JsonNode.Parse(KubernetesJson.Serialize(result)),
    }) as JsonObject;
}
