using Remediation.Alerts;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Alerts;

/// <summary>
/// Golden payloads in the formats real senders post (kube-prometheus / kube-state-metrics rules through Alertmanager,
/// with and without honor_labels; Istio; Azure Monitor managed Prometheus in the common alert schema): the target
/// and the alert name are what an operator reading the payload would say they are.
/// </summary>
public sealed class TargetPayloadTests
{
    public static TheoryData<string, string, string, string, string> Targeted => new()
    {
        // file, alertname, namespace, name, kind
        { "targets/alertmanager-ksm-deployment-replicas-mismatch.json", "KubeDeploymentReplicasMismatch", "shop", "checkout", WorkloadKinds.Deployment },
        { "targets/alertmanager-ksm-deployment-without-honor-labels.json", "KubeDeploymentReplicasMismatch", "shop", "cart", WorkloadKinds.Deployment },
        { "targets/alertmanager-ksm-replicaset-unavailable.json", "ReplicaSetPodsUnavailable", "shop", "checkout-7d9c6b5f4", WorkloadKinds.ReplicaSet },
        { "targets/alertmanager-ksm-statefulset-replicas-mismatch.json", "KubeStatefulSetReplicasMismatch", "data", "dd1", WorkloadKinds.StatefulSet },
        { "targets/alertmanager-ksm-statefulset-without-honor-labels.json", "KubeStatefulSetReplicasMismatch", "data", "dd1", WorkloadKinds.StatefulSet },
        { "targets/alertmanager-ksm-daemonset-rollout-stuck.json", "KubeDaemonSetRolloutStuck", "logging", "fluent-bit", WorkloadKinds.DaemonSet },
        { "targets/alertmanager-ksm-job-failed.json", "KubeJobFailed", "batch", "dddd", WorkloadKinds.Job },
        { "targets/alertmanager-ksm-cronjob-not-scheduled.json", "CronJobNotScheduled", "batch", "ka", WorkloadKinds.CronJob },
        { "targets/alertmanager-ksm-hpa-maxed-out.json", "KubeHpaMaxedOut", "shop", "api", WorkloadKinds.HorizontalPodAutoscaler },
        { "targets/alertmanager-ksm-crashloop-statefulset-pod.json", "KubePodCrashLooping", "data", "dd1-0", WorkloadKinds.Pod },
        { "targets/alertmanager-ksm-crashloop-cronjob-pod.json", "KubePodCrashLooping", "batch", "ka-28391234-x2x9k", WorkloadKinds.Pod },
        { "targets/alertmanager-ksm-crashloop-short-hash-pod.json", "KubePodCrashLooping", "shop", "web-5d8f-x2x9k", WorkloadKinds.Pod },
        { "targets/alertmanager-ksm-crashloop-without-honor-labels.json", "KubePodCrashLooping", "shop", "checkout-7d9c6b5f4-x2x9k", WorkloadKinds.Pod },
        { "alertmanager/kube-pod-crashlooping.json", "KubePodCrashLooping", "shop", "checkout-76bf44d6cf-4crt4", WorkloadKinds.Pod },
        { "targets/alertmanager-app-scraped-from-itself.json", "CheckoutHighErrorRate", "shop", "checkout-7d9c6b5f4-x2x9k", WorkloadKinds.Pod },
        { "targets/alertmanager-workload-recording-rule.json", "WorkloadPodsNotReady", "data", "dd1", WorkloadKinds.StatefulSet },
        { "alertmanager/istio-high-error-rate.json", "IstioHigh5xxErrorRate", "shop", "reviews-v2", WorkloadKinds.Deployment },
        { "targets/azure-prometheus-statefulset-mismatch.json", "KubeStatefulSetReplicasMismatch", "data", "dd1", WorkloadKinds.StatefulSet },
        { "targets/azure-prometheus-job-failed-no-alertname.json", "KubeJobFailed", "batch", "dddd", WorkloadKinds.Job },
        { "azuremonitor/prometheus-alert-crashloop.json", "KubePodCrashLooping", "shop", "checkout-76bf44d6cf-5kk4f", WorkloadKinds.Pod },
    };

    [Theory]
    [MemberData(nameof(Targeted))]
    public void Golden_payload_targets_the_object_it_is_about(string file, string alertName, string ns, string name, string kind)
    {
        var alert = Load(file);
        Assert.Equal(alertName, alert.Name);
        Assert.Equal(alertName, alert.Labels["alertname"]);
        Assert.Null(alert.TargetProblem);
        Assert.Equal(new WorkloadTarget(ns, name, kind), alert.Target);
    }

    [Theory]
    [InlineData("targets/alertmanager-ksm-exporter-pod-only.json", "KubePodNotReady", "label 'pod' value 'kube-state-metrics-6d4f8b9c7-abcde' names the metrics exporter (job 'kube-state-metrics')")]
    [InlineData("targets/alertmanager-node-exporter-filesystem.json", "NodeFilesystemSpaceFillingUp", "label 'pod' value 'prometheus-node-exporter-x7k2p' names the metrics exporter (job 'node-exporter')")]
    public void The_exporter_pod_is_never_the_target(string file, string alertName, string problem)
    {
        var alert = Load(file);
        Assert.Equal(alertName, alert.Name);
        Assert.Null(alert.Target);
        Assert.StartsWith(problem, alert.TargetProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void Managed_prometheus_alert_keeps_the_azure_rule_beside_the_prometheus_alertname()
    {
        var alert = Load("targets/azure-prometheus-statefulset-mismatch.json");
        Assert.Equal("KubeStatefulSetReplicasMismatch", alert.Name);
        Assert.Equal("KubernetesAlert-RecommendedPodLevelAlerts-aks-shop-prod/KubeStatefulSetReplicasMismatch", alert.Labels[AzureMonitorNormalizer.AzureAlertRuleLabel]);
        Assert.Equal("Prometheus", alert.Annotations["monitoringService"]);

        var withoutAlertname = Load("targets/azure-prometheus-job-failed-no-alertname.json");
        Assert.Equal("KubeJobFailed", withoutAlertname.Name);
        Assert.Equal("KubernetesAlert-RecommendedClusterLevelAlerts-aks-shop-prod/KubeJobFailed", withoutAlertname.Labels[AzureMonitorNormalizer.AzureAlertRuleLabel]);
    }

    [Theory]
    [InlineData("group/KubePodCrashLooping", "Prometheus", null, "KubePodCrashLooping")]
    [InlineData("group/KubePodCrashLooping", "Prometheus", "KubePodCrashLooping", "KubePodCrashLooping")]
    [InlineData("group/renamed", "Prometheus", "KubePodCrashLooping", "KubePodCrashLooping")]
    [InlineData("a/b/KubeJobFailed", "Prometheus", null, "KubeJobFailed")]
    [InlineData("no-slash-rule", "Prometheus", null, "no-slash-rule")]
    [InlineData("trailing/", "Prometheus", null, "trailing/")]
    [InlineData("checkout-restarting-containers", "Platform", "ignored", "checkout-restarting-containers")]
    [InlineData("logs/rule", "Log Analytics", null, "logs/rule")]
    public void Alert_name_of_an_azure_alert(string alertRule, string service, string? alertname, string expected)
    {
        var labels = new Dictionary<string, string>();
        if (alertname is not null)
        {
            labels["alertname"] = alertname;
        }
        Assert.Equal(expected, AzureMonitorNormalizer.AlertNameOf(alertRule, service, labels));
    }

    [Theory]
    [InlineData("namespace=shop,deployment=checkout,pod=checkout-7d9c6b5f4-x2x9k", "deployment/checkout -n shop")]
    [InlineData("namespace=shop,statefulset=dd1,deployment=web", "deployment/web -n shop")]
    [InlineData("namespace=shop,pod=dd1-0,statefulset=dd1", "statefulset/dd1 -n shop")]
    [InlineData("namespace=batch,job_name=dddd,cronjob=ka", "job/dddd -n batch")]
    [InlineData("namespace=shop,replicaset=checkout-7d9c6b5f4,horizontalpodautoscaler=checkout", "replicaset/checkout-7d9c6b5f4 -n shop")]
    [InlineData("namespace=monitoring,exported_namespace=shop,exported_deployment=cart,deployment=kube-state-metrics", "deployment/cart -n shop")]
    [InlineData("namespace=monitoring,exported_namespace=shop,exported_pod=cart-0,pod=kube-state-metrics-abc12", "pod/cart-0 -n shop")]
    [InlineData("namespace=shop,workload=dd1,workload_type=StatefulSet", "statefulset/dd1 -n shop")]
    [InlineData("namespace=shop,controller=payments-6b7c9d8f5,controller_kind=ReplicaSet", "replicaset/payments-6b7c9d8f5 -n shop")]
    [InlineData("namespace=shop,app=cart", "deployment/cart -n shop")]
    [InlineData("namespace=shop,app_kubernetes_io_name=cart,app=other", "deployment/cart -n shop")]
    [InlineData("namespace=shop,job=kubelet,pod=checkout-7d9c6b5f4-x2x9k", "pod/checkout-7d9c6b5f4-x2x9k -n shop")]
    [InlineData("namespace=shop,job=integrations/kubernetes/kube-state-metrics,pod=checkout-0", "pod/checkout-0 -n shop")]
    [InlineData("destination_workload_namespace=shop,destination_workload=reviews-v2,namespace=istio-system", "deployment/reviews-v2 -n shop")]
    public void The_right_label_wins(string labels, string expected)
    {
        var (target, problem) = TargetResolver.Resolve(Labels(labels));
        Assert.Null(problem);
        Assert.Equal(expected, target!.Describe());
    }

    [Theory]
    [InlineData("namespace=shop,deployment=Checkout,pod=checkout-0", "label 'deployment' value 'Checkout' is not a valid Kubernetes object name")]
    [InlineData("namespace=shop,statefulset=dd1/../x,app=dd1", "label 'statefulset' value 'dd1/../x' is not a valid Kubernetes object name")]
    [InlineData("namespace=Shop,deployment=checkout", "label 'namespace' value 'Shop' is not a valid namespace name")]
    [InlineData("exported_namespace=shop%2Fx,namespace=shop,deployment=checkout", "label 'exported_namespace' value 'shop%2Fx' is not a valid namespace name")]
    [InlineData("namespace=shop,exported_pod=a b,pod=checkout-0", "label 'exported_pod' value 'a b' is not a valid Kubernetes object name")]
    [InlineData("namespace=shop,workload=dd1,workload_type=rollout,pod=dd1-0", "label 'workload_type' value 'rollout' is not a workload type")]
    [InlineData("namespace=shop,workload=dd1,pod=dd1-0", "label 'workload' names workload 'dd1' but label 'workload_type' is missing")]
    [InlineData("destination_workload=reviews-v2,namespace=shop", "label 'destination_workload' names Deployment 'reviews-v2' but label 'destination_workload_namespace' is missing")]
    [InlineData("destination_workload_namespace=shop,destination_workload=unknown,app=reviews", "label 'destination_workload' is 'unknown'")]
    [InlineData("deployment=checkout", "label 'deployment' names Deployment 'checkout' but label 'namespace' is missing")]
    [InlineData("namespace=shop", "label 'namespace' names namespace 'shop' but no label names a workload")]
    [InlineData("namespace=monitoring,exported_namespace=shop,pod=kube-state-metrics-abc12,app=kube-state-metrics", "label 'pod' value 'kube-state-metrics-abc12' names the metrics exporter (job")]
    [InlineData("namespace=monitoring,exported_namespace=shop,pod=prom-0,job=federate", "label 'pod' value 'prom-0' names the scrape target")]
    public void A_label_that_cannot_be_used_is_a_problem_not_a_fall_through(string labels, string problem)
    {
        var dict = Labels(labels);
        if (dict.ContainsKey("pod") && dict["pod"].StartsWith("kube-state-metrics", StringComparison.Ordinal))
        {
            dict["job"] = "kube-state-metrics";
        }
        var (target, actual) = TargetResolver.Resolve(dict);
        Assert.Null(target);
        Assert.StartsWith(problem, actual, StringComparison.Ordinal);
    }

    [Fact]
    public void Control_characters_in_a_problem_are_escaped()
    {
        var (target, problem) = TargetResolver.Resolve(new Dictionary<string, string> { ["namespace"] = "shop", ["deployment"] = "a\nb\u202e\u0000" });
        Assert.Null(target);
        Assert.Contains(@"'a\u000ab\u202e\u0000'", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem!);
    }

    private static NormalizedAlert Load(string file)
    {
        var body = File.ReadAllBytes(RepoPaths.Payload(file));
        return file.Contains("azure", StringComparison.Ordinal)
            ? AzureMonitorNormalizer.Parse(body)
            : Assert.Single(AlertmanagerNormalizer.Parse(body));
    }

    private static Dictionary<string, string> Labels(string labels) =>
        labels.Split(',').Select(p => p.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);
}
