using System.Text.RegularExpressions;

namespace Remediation.Alerts;

/// <summary>
/// Finds the workload an alert is about from the labels real rule sets use:
/// kube-prometheus (namespace, deployment, pod, replicaset, horizontalpodautoscaler),
/// Istio (destination_workload, destination_workload_namespace), and generic ones (workload, app).
/// </summary>
public static partial class TargetResolver
{
    private static readonly string[] NamespaceLabels =
        ["destination_workload_namespace", "namespace", "exported_namespace", "kubernetes_namespace", "k8s_namespace_name"];

    public static (WorkloadTarget? Target, string? Problem) Resolve(IReadOnlyDictionary<string, string> labels)
    {
        var ns = First(labels, NamespaceLabels);
        var workload = WorkloadName(labels);
        if (ns is null && workload is null)
        {
            return (null, "labels name neither a namespace nor a workload (expected 'namespace' with 'deployment', 'destination_workload', 'workload', 'pod' or 'app')");
        }
        if (ns is null)
        {
            return (null, $"labels name workload '{workload}' but no namespace (expected 'namespace' or 'destination_workload_namespace')");
        }
        if (workload is null)
        {
            return (null, $"labels name namespace '{ns}' but no workload (expected 'deployment', 'destination_workload', 'workload', 'pod' or 'app')");
        }
        return (new WorkloadTarget(ns, workload), null);
    }

    private static string? WorkloadName(IReadOnlyDictionary<string, string> labels)
    {
        if (First(labels, ["deployment", "destination_workload", "exported_deployment"]) is { } direct)
        {
            return direct;
        }
        if (labels.TryGetValue("workload", out var workload) && !string.IsNullOrWhiteSpace(workload)
            && (!labels.TryGetValue("workload_type", out var type) || type.Equals("deployment", StringComparison.OrdinalIgnoreCase)))
        {
            return workload;
        }
        if (First(labels, ["horizontalpodautoscaler"]) is { } hpa)
        {
            return hpa;
        }
        if (First(labels, ["replicaset"]) is { } rs && ReplicaSetName().Match(rs) is { Success: true } rsMatch)
        {
            return rsMatch.Groups["deployment"].Value;
        }
        if (First(labels, ["pod", "exported_pod"]) is { } pod && DeploymentPodName().Match(pod) is { Success: true } podMatch)
        {
            return podMatch.Groups["deployment"].Value;
        }
        return First(labels, ["app_kubernetes_io_name", "app", "service"]);
    }

    private static string? First(IReadOnlyDictionary<string, string> labels, string[] names)
    {
        foreach (var name in names)
        {
            if (labels.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value))
            {
                return value;
            }
        }
        return null;
    }

    // A Deployment's pod is named {deployment}-{pod-template-hash}-{5 chars}; its ReplicaSet {deployment}-{hash}.
    [GeneratedRegex("^(?<deployment>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-[a-z0-9]{6,10}-[a-z0-9]{5}$")]
    private static partial Regex DeploymentPodName();

    [GeneratedRegex("^(?<deployment>[a-z0-9]([-a-z0-9]*[a-z0-9])?)-[a-z0-9]{6,10}$")]
    private static partial Regex ReplicaSetName();
}
