using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using k8s.Models;
using Remediation.Cluster;

namespace Remediation.Tests.Diagnosis;

/// <summary>
/// A cluster reader over objects held in memory, counting its calls: for analyser tests that need ReplicaSet ages and
/// mesh readings the simulator's scenarios do not have.
/// </summary>
internal sealed class InMemoryClusterReader : IClusterReader
{
    public List<V1Deployment> Deployments { get; } = [];
    public List<V1ReplicaSet> ReplicaSets { get; } = [];
    public List<V1Pod> Pods { get; } = [];
    public List<V2HorizontalPodAutoscaler> Hpas { get; } = [];
    public ConcurrentDictionary<string, int> Calls { get; } = new(StringComparer.Ordinal);

    private void Count(string call) => Calls.AddOrUpdate(call, 1, (_, n) => n + 1);

    public Task<V1Deployment?> GetDeploymentAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        Count("get deployment");
        return Task.FromResult(Deployments.FirstOrDefault(d => d.Metadata.NamespaceProperty == @namespace && d.Metadata.Name == name));
    }

    public Task<V1Pod?> GetPodAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(Pods.FirstOrDefault(p => p.Metadata.NamespaceProperty == @namespace && p.Metadata.Name == name));

    /// <summary>When set, what GetMetadataAsync of a kind throws (the API server refusing it, say).</summary>
    public Func<string, Exception?> MetadataFailure { get; set; } = _ => null;

    public Task<V1ObjectMeta?> GetMetadataAsync(string kind, string @namespace, string name, CancellationToken cancellationToken = default) =>
        MetadataFailure(kind) is { } failure ? Task.FromException<V1ObjectMeta?>(failure) :
        Task.FromResult<V1ObjectMeta?>(null);

    public Task<V2HorizontalPodAutoscaler?> GetHorizontalPodAutoscalerAsync(string @namespace, string name, CancellationToken cancellationToken = default) =>
        Task.FromResult(Hpas.FirstOrDefault(h => h.Metadata.NamespaceProperty == @namespace && h.Metadata.Name == name));

    public Task<IReadOnlyList<V1ReplicaSet>> ListReplicaSetsAsync(string @namespace, string? labelSelector, CancellationToken cancellationToken = default)
    {
        Count("list replicasets");
        return Task.FromResult<IReadOnlyList<V1ReplicaSet>>([.. ReplicaSets.Where(r => r.Metadata.NamespaceProperty == @namespace)]);
    }

    public Task<IReadOnlyList<V1Pod>> ListPodsAsync(string @namespace, string? labelSelector, CancellationToken cancellationToken = default)
    {
        Count("list pods");
        return Task.FromResult<IReadOnlyList<V1Pod>>([.. Pods.Where(p => p.Metadata.NamespaceProperty == @namespace)]);
    }

    public Task<IReadOnlyList<Corev1Event>> ListPodWarningEventsAsync(string @namespace, string podName, int limit, CancellationToken cancellationToken = default)
    {
        Count("list events");
        return Task.FromResult<IReadOnlyList<Corev1Event>>([]);
    }

    public Task<IReadOnlyList<V2HorizontalPodAutoscaler>> ListHorizontalPodAutoscalersAsync(string @namespace, CancellationToken cancellationToken = default)
    {
        Count("list horizontalpodautoscalers");
        return Task.FromResult<IReadOnlyList<V2HorizontalPodAutoscaler>>([.. Hpas.Where(h => h.Metadata.NamespaceProperty == @namespace)]);
    }

    public Task<IReadOnlyList<JsonObject>> ListCustomObjectsAsync(CustomResource resource, string @namespace, CancellationToken cancellationToken = default)
    {
        Count("list " + resource.Plural);
        return Task.FromResult<IReadOnlyList<JsonObject>>([]);
    }

    public Task<JsonObject?> GetTargetOfAsync(Mutation mutation, CancellationToken cancellationToken = default) => Task.FromResult<JsonObject?>(null);

    /// <summary>A Deployment "checkout" in "shop" with revisions created the given ages ago (oldest first) and ready pods of the newest.</summary>
    public static InMemoryClusterReader Checkout(DateTimeOffset now, int readyPods, params TimeSpan[] revisionAges)
    {
        var reader = new InMemoryClusterReader();
        var labels = new Dictionary<string, string> { ["app"] = "checkout" };
        reader.Deployments.Add(new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = "checkout", NamespaceProperty = "shop" },
            Spec = new V1DeploymentSpec
            {
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec { Metadata = new V1ObjectMeta { Labels = labels }, Spec = new V1PodSpec { Containers = [new V1Container { Name = "checkout" }] } },
            },
        });
        for (var i = 0; i < revisionAges.Length; i++)
        {
            var revision = i + 1;
            reader.ReplicaSets.Add(new V1ReplicaSet
            {
                Metadata = new V1ObjectMeta
                {
                    Name = $"checkout-h{revision}", NamespaceProperty = "shop", CreationTimestamp = (now - revisionAges[i]).UtcDateTime,
                    Annotations = new Dictionary<string, string> { [DeploymentRevisions.RevisionAnnotation] = revision.ToString(System.Globalization.CultureInfo.InvariantCulture) },
                    Labels = new Dictionary<string, string> { [DeploymentRevisions.PodTemplateHashLabel] = $"h{revision}" },
                    OwnerReferences = [new V1OwnerReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = "checkout", Uid = "uid-checkout", Controller = true }],
                },
                Spec = new V1ReplicaSetSpec
                {
                    Replicas = revision == revisionAges.Length ? readyPods : 0,
                    Selector = new V1LabelSelector { MatchLabels = labels },
                    Template = new V1PodTemplateSpec { Spec = new V1PodSpec { Containers = [new V1Container { Name = "checkout", Image = $"registry.example/checkout:{revision}.0" }] } },
                },
            });
        }
        for (var i = 0; i < readyPods; i++)
        {
            reader.Pods.Add(new V1Pod
            {
                Metadata = new V1ObjectMeta
                {
                    Name = $"checkout-h{revisionAges.Length}-{i}", NamespaceProperty = "shop",
                    Labels = new Dictionary<string, string> { [DeploymentRevisions.PodTemplateHashLabel] = $"h{revisionAges.Length}" },
                },
                Status = new V1PodStatus { Phase = "Running", ContainerStatuses = [new V1ContainerStatus { Name = "checkout", Ready = true, Image = "checkout", ImageID = "", RestartCount = 0 }] },
            });
        }
        return reader;
    }
}
