namespace Remediation.Alerts;

/// <summary>
/// Finds the Kubernetes object an alert is about from the labels real rule sets use, and proves its names valid.
/// <para>
/// Precedence (the first label present decides; a present but invalid label is a problem, never a reason to try the
/// next one, so a crafted value cannot steer the target to a different object):
/// <c>deployment</c>, <c>statefulset</c>, <c>daemonset</c>, <c>job_name</c>, <c>cronjob</c>, <c>replicaset</c>,
/// <c>horizontalpodautoscaler</c> (kube-state-metrics), Istio's <c>destination_workload</c> (namespace from
/// <c>destination_workload_namespace</c>), <c>workload</c> with <c>workload_type</c> (kube-prometheus recording rules),
/// <c>controller</c> with <c>controller_kind</c> (Container insights), <c>pod</c>, then <c>app_kubernetes_io_name</c>
/// and <c>app</c> as a Deployment fallback.
/// </para>
/// <para>
/// Scrapes without <c>honor_labels</c> rename the object's labels that collide with the scrape target's to
/// <c>exported_*</c>: <c>exported_X</c> names the object and comes before <c>X</c>; <c>exported_namespace</c>, when
/// present, is the object's namespace, and the plain <c>pod</c> (and <c>app</c>) then name the scrape target.
/// A <c>pod</c> that names the metrics exporter itself (job, container or service is kube-state-metrics,
/// node-exporter, ... and the pod is named after it) is never the target.
/// </para>
/// <para>
/// Pods, ReplicaSets, HorizontalPodAutoscalers and Jobs are returned as such: the pipeline resolves their owner in
/// the cluster. Nothing here guesses an owner from the shape of a name. A label whose value is empty is absent
/// (Prometheus semantics).
/// </para>
/// </summary>
public static class TargetResolver
{
    /// <summary>The explicit workload labels, highest precedence first.</summary>
    public static readonly IReadOnlyList<(string Label, string Kind)> WorkloadLabels =
    [
        ("deployment", WorkloadKinds.Deployment),
        ("statefulset", WorkloadKinds.StatefulSet),
        ("daemonset", WorkloadKinds.DaemonSet),
        ("job_name", WorkloadKinds.Job),
        ("cronjob", WorkloadKinds.CronJob),
        ("replicaset", WorkloadKinds.ReplicaSet),
        ("horizontalpodautoscaler", WorkloadKinds.HorizontalPodAutoscaler),
    ];

    /// <summary>Where the namespace comes from when the name label does not bring its own, first present wins.</summary>
    public static readonly IReadOnlyList<string> NamespaceLabels =
        ["exported_namespace", "namespace", "kubernetes_namespace", "k8s_namespace_name"];

    private const string Expected =
        "expected 'namespace' with 'deployment', 'statefulset', 'daemonset', 'job_name', 'cronjob', 'replicaset', " +
        "'horizontalpodautoscaler', 'destination_workload', 'workload', 'pod' or 'app'";

    /// <summary>Exporters whose own pod appears as the <c>pod</c> label of what they report.</summary>
    private static readonly string[] Exporters =
    [
        "kube-state-metrics", "node-exporter", "blackbox-exporter", "kubelet", "cadvisor", "kube-proxy",
        "windows-exporter", "process-exporter", "metrics-server",
    ];

    private static readonly Dictionary<string, string> KindsByType = new(StringComparer.OrdinalIgnoreCase)
    {
        ["deployment"] = WorkloadKinds.Deployment,
        ["statefulset"] = WorkloadKinds.StatefulSet,
        ["daemonset"] = WorkloadKinds.DaemonSet,
        ["job"] = WorkloadKinds.Job,
        ["cronjob"] = WorkloadKinds.CronJob,
        ["replicaset"] = WorkloadKinds.ReplicaSet,
    };

    public static (WorkloadTarget? Target, string? Problem) Resolve(IReadOnlyDictionary<string, string> labels)
    {
        var (target, problem, _) = ResolveWithKind(labels);
        return (target, problem);
    }

    /// <summary>
    /// As <see cref="Resolve"/>, and what kind of problem stopped it: <see cref="TargetProblemKind.NoWorkload"/> when no
    /// label names a Kubernetes workload at all (a VM, a budget, a node), <see cref="TargetProblemKind.Invalid"/> when a
    /// label names one but cannot be used (a value that breaks the Kubernetes name rules, a missing namespace or kind).
    /// </summary>
    public static (WorkloadTarget? Target, string? Problem, TargetProblemKind Kind) ResolveWithKind(IReadOnlyDictionary<string, string> labels)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var named = NameOf(labels);
        if (named.Problem is not null)
        {
            return (null, named.Problem, TargetProblemKind.Invalid);
        }
        var ns = named.NamespaceLabel is { } nsLabel ? Present(labels, nsLabel) : FirstPresent(labels, NamespaceLabels);
        if (named.Label is null)
        {
            if (named.Ignored is { } ignored)
            {
                return (null, ignored, TargetProblemKind.NoWorkload);
            }
            return ns is null
                ? (null, $"labels name neither a namespace nor a workload ({Expected})", TargetProblemKind.NoWorkload)
                : (null, $"label '{ns.Value.Label}' names namespace {KubernetesNames.Quote(ns.Value.Value)} but no label names a workload ({Expected})", TargetProblemKind.NoWorkload);
        }
        if (KubernetesNames.NameProblem(named.Label, named.Name) is { } nameProblem)
        {
            return (null, nameProblem, TargetProblemKind.Invalid);
        }
        if (ns is null)
        {
            var wanted = named.NamespaceLabel ?? "namespace";
            return (null, $"label '{named.Label}' names {named.Kind} {KubernetesNames.Quote(named.Name)} but label '{wanted}' is missing, so its namespace is unknown", TargetProblemKind.Invalid);
        }
        if (KubernetesNames.NamespaceProblem(ns.Value.Label, ns.Value.Value) is { } namespaceProblem)
        {
            return (null, namespaceProblem, TargetProblemKind.Invalid);
        }
        return (new WorkloadTarget(ns.Value.Value, named.Name!, named.Kind!), null, TargetProblemKind.None);
    }

    /// <summary>
    /// The label that names the object: its label, value and kind, the label its namespace must come from when that is
    /// fixed (Istio), a problem when the deciding label cannot be used, or why a present pod label was not used.
    /// </summary>
    private readonly record struct Named(string? Label, string? Name, string? Kind, string? NamespaceLabel = null, string? Problem = null, string? Ignored = null);

    private static Named NameOf(IReadOnlyDictionary<string, string> labels)
    {
        foreach (var (label, kind) in WorkloadLabels)
        {
            if (PresentOrExported(labels, label) is { } found)
            {
                return new(found.Label, found.Value, kind);
            }
        }

        if (Present(labels, "destination_workload") is { } istio)
        {
            if (istio.Value == "unknown")
            {
                return new(null, null, null, Problem: "label 'destination_workload' is 'unknown': Istio could not tell which workload received the requests");
            }
            return new(istio.Label, istio.Value, WorkloadKinds.Deployment, NamespaceLabel: "destination_workload_namespace");
        }

        if (PresentOrExported(labels, "workload") is { } workload)
        {
            var typeLabel = workload.Label == "workload" ? "workload_type" : "exported_workload_type";
            return Present(labels, typeLabel) is { } type
                ? KindsByType.TryGetValue(type.Value, out var kind)
                    ? new(workload.Label, workload.Value, kind)
                    : new(null, null, null, Problem: $"label '{typeLabel}' value {KubernetesNames.Quote(type.Value)} is not a workload type this product knows (expected deployment, statefulset, daemonset, job, cronjob or replicaset)")
                : new(null, null, null, Problem: $"label '{workload.Label}' names workload {KubernetesNames.Quote(workload.Value)} but label '{typeLabel}' is missing, so its kind is unknown");
        }

        if (Present(labels, "controller") is { } controller && Present(labels, "controller_kind") is { } controllerKind)
        {
            return KindsByType.TryGetValue(controllerKind.Value, out var kind)
                ? new(controller.Label, controller.Value, kind)
                : new(null, null, null, Problem: $"label 'controller_kind' value {KubernetesNames.Quote(controllerKind.Value)} is not a controller kind this product knows (expected Deployment, StatefulSet, DaemonSet, Job, CronJob or ReplicaSet)");
        }

        return PodOrAppNameOf(labels);
    }

    /// <summary>
    /// Without a workload label: an exported pod, else the pod unless it is the exporter's own or the scrape target,
    /// else an app label (the exported one first; the plain ones only when no pod was set aside).
    /// </summary>
    private static Named PodOrAppNameOf(IReadOnlyDictionary<string, string> labels)
    {
        if (Present(labels, "exported_pod") is { } exportedPod)
        {
            return new(exportedPod.Label, exportedPod.Value, WorkloadKinds.Pod);
        }
        string? ignored = null;
        if (Present(labels, "pod") is { } pod)
        {
            // Even a pod set aside below must be a valid name: nothing that cannot be a pod steers the choice.
            if (KubernetesNames.NameProblem(pod.Label, pod.Value) is { } podProblem)
            {
                return new(null, null, null, Problem: podProblem);
            }
            if (ExporterOf(labels, pod.Value) is { } exporter)
            {
                ignored = $"label 'pod' value {KubernetesNames.Quote(pod.Value)} names the metrics exporter ({exporter}) that reported the alert, not the object it is about, and no other label names a workload";
            }
            else if (Present(labels, "exported_namespace") is not null)
            {
                ignored = $"label 'pod' value {KubernetesNames.Quote(pod.Value)} names the scrape target (the object's namespace came as 'exported_namespace'), and no other label names a workload";
            }
            else
            {
                return new(pod.Label, pod.Value, WorkloadKinds.Pod);
            }
        }

        foreach (var app in (string[])["app_kubernetes_io_name", "app"])
        {
            if (Present(labels, "exported_" + app) is { } exportedApp)
            {
                return new(exportedApp.Label, exportedApp.Value, WorkloadKinds.Deployment);
            }
            // The plain app labels come from the same scrape target as an ignored pod.
            if (ignored is null && Present(labels, app) is { } plainApp)
            {
                return new(plainApp.Label, plainApp.Value, WorkloadKinds.Deployment);
            }
        }
        return new(null, null, null, Ignored: ignored);
    }

    /// <summary>
    /// When the pod is the exporter's own (job, container or service names a known exporter and the pod is named after
    /// it), which label said so; else null. An app scraped from itself (job "checkout", pod "checkout-…") stays the target.
    /// </summary>
    private static string? ExporterOf(IReadOnlyDictionary<string, string> labels, string pod)
    {
        foreach (var label in (string[])["job", "container", "service"])
        {
            if (Present(labels, label) is not { } found)
            {
                continue;
            }
            // Grafana Agent / Alloy style jobs: "integrations/kubernetes/kube-state-metrics".
            var value = found.Value[(found.Value.LastIndexOf('/') + 1)..].ToLowerInvariant();
            if (!IsExporterName(value))
            {
                continue;
            }
            // The pod is named after the exporter: "kube-state-metrics-6d4f8b9c7-abcde" for job "kube-state-metrics",
            // "prometheus-node-exporter-x7k2p" for job "node-exporter" (a chart's release prefix).
            if (pod == value || pod.StartsWith(value + "-", StringComparison.Ordinal)
                || Exporters.Any(e => value.EndsWith(e, StringComparison.Ordinal)
                    && (pod == e || pod.StartsWith(e + "-", StringComparison.Ordinal) || pod.Contains("-" + e + "-", StringComparison.Ordinal))))
            {
                return $"{label} {KubernetesNames.Quote(found.Value)}";
            }
        }
        return null;
    }

    /// <summary>kube-state-metrics, prometheus-node-exporter, kube-prometheus-stack-kube-state-metrics, ...</summary>
    private static bool IsExporterName(string value) =>
        Exporters.Any(e => value == e || value.EndsWith("-" + e, StringComparison.Ordinal));

    private static (string Label, string Value)? PresentOrExported(IReadOnlyDictionary<string, string> labels, string label) =>
        Present(labels, "exported_" + label) ?? Present(labels, label);

    private static (string Label, string Value)? FirstPresent(IReadOnlyDictionary<string, string> labels, IReadOnlyList<string> names)
    {
        foreach (var name in names)
        {
            if (Present(labels, name) is { } found)
            {
                return found;
            }
        }
        return null;
    }

    private static (string Label, string Value)? Present(IReadOnlyDictionary<string, string> labels, string label) =>
        labels.TryGetValue(label, out var value) && !string.IsNullOrEmpty(value) ? (label, value) : null;
}
