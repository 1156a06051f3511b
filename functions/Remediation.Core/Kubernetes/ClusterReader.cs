using System.Text.Json;
using System.Text.Json.Nodes;
using k8s;
using k8s.Models;


namespace Remediation.Kubernetes;

/// <summary>The reads actions plan from: a Deployment, its ReplicaSets by revision, its pods, routes.</summary>
public sealed class ClusterReader(IKubernetes client, TimeProvider timeProvider)
{
    public Task<V1Deployment> DeploymentAsync(string ns, string name, CancellationToken cancellationToken) =>
        ClusterCall.RunAsync(ct => client.AppsV1.ReadNamespacedDeploymentAsync(name, ns, cancellationToken: ct), timeProvider, cancellationToken);

    /// <summary>The ReplicaSets the Deployment owns, newest revision first.</summary>
    public async Task<List<V1ReplicaSet>> ReplicaSetsAsync(V1Deployment deployment, CancellationToken cancellationToken)
    {
        var list = await ClusterCall.RunAsync(ct => client.AppsV1.ListNamespacedReplicaSetAsync(deployment.Metadata.NamespaceProperty, labelSelector: Selector(deployment), cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return list.Items
            .Where(rs => rs.Metadata.OwnerReferences?.Any(o => o.Kind == "Deployment" && o.Name == deployment.Metadata.Name) ?? false)
            .OrderByDescending(DeploymentRevisions.Of)
            .ToList();
    }

    public async Task<IList<V1Pod>> PodsAsync(V1Deployment deployment, CancellationToken cancellationToken)
    {
        var list = await ClusterCall.RunAsync(ct => client.CoreV1.ListNamespacedPodAsync(deployment.Metadata.NamespaceProperty, labelSelector: Selector(deployment), cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return list.Items;
    }

    public async Task<V2HorizontalPodAutoscaler?> HorizontalPodAutoscalerForAsync(V1Deployment deployment, CancellationToken cancellationToken)
    {
        var list = await ClusterCall.RunAsync(ct => client.AutoscalingV2.ListNamespacedHorizontalPodAutoscalerAsync(deployment.Metadata.NamespaceProperty, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        return list.Items.FirstOrDefault(h => h.Spec.ScaleTargetRef.Kind == "Deployment" && h.Spec.ScaleTargetRef.Name == deployment.Metadata.Name);
    }

    /// <summary>Custom objects (Istio, Gateway API) of a namespace as JSON; an absent CRD gives an empty list.</summary>
    public async Task<List<JsonObject>> CustomObjectsAsync(string group, string version, string ns, string plural, CancellationToken cancellationToken)
    {
        object result;
        try
        {
            result = await ClusterCall.RunAsync(ct => client.CustomObjects.ListNamespacedCustomObjectAsync(group, version, ns, plural, cancellationToken: ct), timeProvider, cancellationToken).ConfigureAwait(false);
        }
        catch (k8s.Autorest.HttpOperationException ex) when (ex.Response.StatusCode == System.Net.HttpStatusCode.NotFound)
        {
            return [];
        }
        var node = result switch
        {
            JsonElement element => JsonNode.Parse(element.GetRawText()),
            JsonNode n => n,
            _ => JsonNode.Parse(KubernetesJson.Serialize(result)),
        };
        return node?["items"]?.AsArray().OfType<JsonObject>().ToList() ?? [];
    }

    public static string? Selector(V1Deployment deployment) =>
        deployment.Spec.Selector?.MatchLabels is { Count: > 0 } labels ? string.Join(",", labels.Select(l => $"{l.Key}={l.Value}")) : null;
}
