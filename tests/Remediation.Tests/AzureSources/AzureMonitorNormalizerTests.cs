using System.Text;
using Remediation.Alerts;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.AzureSources;

/// <summary>Unit level: the golden common-schema payloads map onto the expected NormalizedAlert.</summary>
public sealed class AzureMonitorNormalizerTests
{
    internal static NormalizedAlert ParseFile(string relative) =>
        AzureMonitorNormalizer.Parse(File.ReadAllBytes(RepoPaths.Payload(relative)));

    [Fact]
    public void Metric_alert_with_container_insights_dimensions_maps_to_the_deployment()
    {
        var alert = ParseFile("azuremonitor/metric-alert-fired.json");
        Assert.Equal(AlertSource.AzureMonitor, alert.Source);
        Assert.Equal("checkout-restarting-containers", alert.Name);
        Assert.Equal(AlertStatus.Firing, alert.Status);
        Assert.Equal("/subscriptions/6f1c2a7e-0b4d-4c8e-9a31-5d2e8b7f4c10/providers/Microsoft.AlertsManagement/alerts/3b9e1c4d-7a2f-4e6b-8c1d-0f5a9e2b7d31", alert.Fingerprint);
        Assert.Equal(DateTimeOffset.Parse("2026-11-26T03:04:12.5531847Z", System.Globalization.CultureInfo.InvariantCulture), alert.StartsAt);
        Assert.Null(alert.EndsAt);
        Assert.Equal("Sev2", alert.Severity);
        Assert.Equal(new WorkloadTarget("shop", "checkout"), alert.Target);
        Assert.Null(alert.TargetProblem);
        Assert.Equal("shop", alert.Labels["namespace"]);
        Assert.Equal("checkout", alert.Labels["deployment"]);
        Assert.Equal("checkout-restarting-containers", alert.Labels["alertname"]);
        Assert.Equal("Sev2", alert.Labels["severity"]);
        Assert.Equal("aks-shop-prod", alert.Labels["cluster"]);
        Assert.Equal("rg-shop-prod", alert.Labels["resource_group"]);
        Assert.Equal("restartingContainerCount", alert.Annotations["metricName"]);
        Assert.Equal("shop-sre", alert.Annotations["team"]);
        Assert.Equal("Platform", alert.Annotations["monitoringService"]);
    }

    [Fact]
    public void Resolved_notification_is_the_same_incident_with_an_end()
    {
        var fired = ParseFile("azuremonitor/metric-alert-fired.json");
        var resolved = ParseFile("azuremonitor/metric-alert-resolved.json");
        Assert.Equal(AlertStatus.Resolved, resolved.Status);
        Assert.Equal(DateTimeOffset.Parse("2026-11-26T03:21:40.1183020Z", System.Globalization.CultureInfo.InvariantCulture), resolved.EndsAt);
        Assert.Equal(fired.IncidentId, resolved.IncidentId);
    }

    [Fact]
    public void Log_search_alert_v2_targets_the_replicaset_it_names_with_its_kind()
    {
        var alert = ParseFile("azuremonitor/log-alert-v2-oomkilled.json");
        Assert.Equal("payments-oomkilled", alert.Name);
        Assert.Equal("Sev1", alert.Severity);
        Assert.Equal(new WorkloadTarget("shop", "payments-6b7c9d8f5", WorkloadKinds.ReplicaSet), alert.Target);
        Assert.Equal("payments-6b7c9d8f5", alert.Labels["controller"]);
        Assert.Equal("ReplicaSet", alert.Labels["controller_kind"]);
        Assert.Equal("payments-6b7c9d8f5-q8z2m", alert.Labels["pod"]);
        Assert.StartsWith("KubePodInventory", alert.Annotations["searchQuery"], StringComparison.Ordinal);
        Assert.EndsWith("oomkilled-shop-payments", alert.GeneratorUrl, StringComparison.Ordinal);
    }

    [Fact]
    public void Prometheus_alert_uses_its_labels()
    {
        var alert = ParseFile("azuremonitor/prometheus-alert-crashloop.json");
        Assert.Equal("KubePodCrashLooping", alert.Name);
        Assert.Equal(new WorkloadTarget("shop", "checkout-76bf44d6cf-5kk4f", WorkloadKinds.Pod), alert.Target);
        Assert.Equal("KubePodCrashLooping", alert.Labels[AzureMonitorNormalizer.AzureAlertRuleLabel]);
        Assert.Equal("checkout-76bf44d6cf-5kk4f", alert.Labels["pod"]);
        Assert.Equal("aks-shop-prod", alert.Labels["cluster"]);
        Assert.Equal("Sev3", alert.Labels["severity"]);
        Assert.Equal("PT1M", alert.Annotations["interval"]);
        Assert.Contains("CrashLoopBackOff", alert.Annotations["expression"], StringComparison.Ordinal);
        Assert.EndsWith("prometheusRuleGroups/KubernetesAlert-RecommendedPodLevelAlerts-aks-shop-prod", alert.Annotations["ruleGroup"], StringComparison.Ordinal);
        Assert.Equal("Pod is crash looping.", alert.Annotations["summary"]);
    }

    [Fact]
    public void Activity_log_alert_on_the_cluster_has_no_workload_and_says_why()
    {
        var alert = ParseFile("azuremonitor/activity-log-alert-cluster.json");
        Assert.Null(alert.Target);
        Assert.Contains("neither a namespace nor a workload", alert.TargetProblem, StringComparison.Ordinal);
        Assert.Equal("aks-shop-prod", alert.Labels["cluster"]);
        Assert.Equal("Microsoft.ContainerService/managedClusters/stop/action", alert.Annotations["operationName"]);
    }

    [Theory]
    [InlineData("Kubernetes namespace", "namespace")]
    [InlineData("kubernetes_namespace", "namespace")]
    [InlineData("Namespace", "namespace")]
    [InlineData("controllerName", "controller")]
    [InlineData("podName", "pod")]
    [InlineData("PodName", "pod")]
    [InlineData("containerName", "container")]
    [InlineData("deployment", "deployment")]
    [InlineData("Computer", "node")]
    [InlineData("Some Custom.Dimension", "some_custom_dimension")]
    public void Dimension_names_are_normalized(string name, string expected) =>
        Assert.Equal(expected, AzureMonitorNormalizer.NormalizeLabelName(name));

    [Fact]
    public void A_statefulset_controller_is_targeted_with_its_kind()
    {
        var alert = Normalize(Dimensions("""{"name":"Kubernetes namespace","value":"shop"},{"name":"controllerName","value":"orders-db"},{"name":"controllerKind","value":"StatefulSet"}"""));
        Assert.Equal(new WorkloadTarget("shop", "orders-db", WorkloadKinds.StatefulSet), alert.Target);
        var unknown = Normalize(Dimensions("""{"name":"Kubernetes namespace","value":"shop"},{"name":"controllerName","value":"orders-db"},{"name":"controllerKind","value":"Rollout"}"""));
        Assert.Null(unknown.Target);
        Assert.Contains("label 'controller_kind' value 'Rollout'", unknown.TargetProblem, StringComparison.Ordinal);
    }

    [Fact]
    public void A_controller_without_kind_is_read_as_a_deployment_whatever_the_shape_of_its_name()
    {
        // Container insights metric alerts carry controllerName without its kind; no hash is stripped to guess an owner.
        var alert = Normalize(Dimensions("""{"name":"Kubernetes namespace","value":"shop"},{"name":"controllerName","value":"checkout-7d9f8b6c5"}"""));
        Assert.Equal(new WorkloadTarget("shop", "checkout-7d9f8b6c5"), alert.Target);
        var plain = Normalize(Dimensions("""{"name":"Kubernetes namespace","value":"shop"},{"name":"controllerName","value":"checkout-service"}"""));
        Assert.Equal(new WorkloadTarget("shop", "checkout-service"), plain.Target);
    }

    [Theory]
    [InlineData("""{"data":{}}""", "$.schemaId", "'schemaId' is missing")]
    [InlineData("""{"schemaId":"Microsoft.Insights/activityLogs","data":{}}""", "$.schemaId", "unsupported schemaId")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema"}""", "$.data", "'data' is missing")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"alertContext":{}}}""", "$.data.essentials", "'essentials' is missing")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"}}}""", "$.data.essentials.alertId", "'alertId' is missing")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev9","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"}}}""", "$.data.essentials.severity", "unknown severity 'Sev9'")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Trace","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"}}}""", "$.data.essentials.signalType", "unknown signalType 'Trace'")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Burning","firedDateTime":"2026-11-26T03:00:00Z"}}}""", "$.data.essentials.monitorCondition", "unknown monitorCondition 'Burning'")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":1,"firedDateTime":"2026-11-26T03:00:00Z"}}}""", "$.data.essentials.severity", "'severity' must be a string")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired"}}}""", "$.data.essentials.firedDateTime", "'firedDateTime' is missing")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"yesterday"}}}""", "$.data.essentials.firedDateTime", "not an ISO 8601 time")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z","alertTargetIDs":"x"}}}""", "$.data.essentials.alertTargetIDs", "must be an array")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"},"alertContext":{"condition":{"allOf":[{"dimensions":[{"name":"namespace"}]}]}}}}""", "$.data.alertContext.condition.allOf[0].dimensions[0].value", "'value' of dimension 'namespace' is missing")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"},"alertContext":{"labels":{"namespace":1}}}}""", "$.data.alertContext.labels.namespace", "label values must be strings")]
    [InlineData("""[1,2]""", "$", "expected an Azure Monitor common alert schema object")]
    [InlineData("""{"schemaId":""", "$", "malformed JSON")]
    // A second alert or garbage after the first was dropped unread: the whole body is refused instead.
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{}} GARBAGE""", "$", "malformed JSON")]
    [InlineData("{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{}}\n{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{}}", "$", "malformed JSON")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"},"alertContext":{"condition":"x"}}}""", "$.data.alertContext.condition", "expected an object with the conditions in 'allOf', not a string")]
    [InlineData("""{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a","alertRule":"r","severity":"Sev1","signalType":"Metric","monitorCondition":"Fired","firedDateTime":"2026-11-26T03:00:00Z"},"customProperties":[1]}}""", "$.data.customProperties", "expected an object of names to strings, not an array")]
    public void Malformed_payloads_name_the_field(string body, string field, string detail)
    {
        var ex = Assert.Throws<AlertParseException>(() => AzureMonitorNormalizer.Parse(Encoding.UTF8.GetBytes(body)));
        Assert.Equal(field, ex.Field);
        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_body_of_whitespace_is_malformed_json_in_plain_words()
    {
        foreach (var parse in (Action[])[() => AzureMonitorNormalizer.Parse("   "u8.ToArray()), () => AlertmanagerNormalizer.Parse("   "u8.ToArray())])
        {
            var ex = Assert.Throws<AlertParseException>(parse);
            Assert.Contains("malformed JSON", ex.Message, StringComparison.Ordinal);
            Assert.DoesNotContain("isFinalBlock", ex.Message, StringComparison.Ordinal);
        }
    }

    private static string Dimensions(string dimensions) =>
        """{"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"/subscriptions/s/providers/Microsoft.AlertsManagement/alerts/x","alertRule":"r","severity":"Sev2","signalType":"Metric","monitorCondition":"Fired","monitoringService":"Platform","firedDateTime":"2026-11-26T03:00:00Z"},"alertContext":{"condition":{"allOf":[{"metricName":"m","dimensions":["""
        + dimensions + "]}]}}}}";

    private static NormalizedAlert Normalize(string json) => AzureMonitorNormalizer.Parse(Encoding.UTF8.GetBytes(json));

    [Fact]
    public void Microsoft_budget_sample_with_null_rule_severity_and_signal_type_is_accepted_with_defaults()
    {
        var alert = ParseFile("azuremonitor/ms-budget-test-action.json");
        Assert.Equal("Test_forcasted_budget", alert.Name);
        Assert.Equal(AlertStatus.Firing, alert.Status);
        Assert.Null(alert.Severity);
        Assert.Equal("/subscriptions/aaaa0a0a-bb1b-cc2c-dd3d-eeeeee4e4e4e/providers/Microsoft.CostManagement/alerts/Test_Alert", alert.Fingerprint);
        Assert.Equal(DateTimeOffset.Parse("2025-04-15T17:49:34.022Z", System.Globalization.CultureInfo.InvariantCulture), alert.StartsAt);
        Assert.False(alert.Labels.ContainsKey("severity"));
        Assert.False(alert.Labels.ContainsKey(AzureMonitorNormalizer.AzureAlertRuleLabel));
        Assert.False(alert.Annotations.ContainsKey("signalType"));
        Assert.Equal("CostAlerts", alert.Annotations["monitoringService"]);
        Assert.Equal("budgets", alert.Annotations["configurationItems"]);
        Assert.StartsWith("Delivery Confirmation", alert.Annotations["description"], StringComparison.Ordinal);
        Assert.Null(alert.Target);
        Assert.Equal(TargetProblemKind.NoWorkload, alert.TargetProblemKind);
    }

    [Fact]
    public void Null_monitor_condition_is_firing_and_a_context_without_names_gives_the_default_name()
    {
        var alert = ParseFile("azuremonitor/ms-cost-budget-test-action.json");
        Assert.Equal("Test_actual_cost_budget", alert.Name);
        Assert.Equal(AlertStatus.Firing, alert.Status);

        var bare = AzureMonitorNormalizer.Parse(Encoding.UTF8.GetBytes("""
            {"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a1","alertRule":null,"severity":null,
             "signalType":null,"monitorCondition":null,"firedDateTime":"2026-11-26T03:00:00Z"},"alertContext":null}}
            """));
        Assert.Equal(AzureMonitorNormalizer.DefaultAlertName, bare.Name);
        Assert.Equal("azure-alert", bare.Labels["alertname"]);
        Assert.Equal(AlertStatus.Firing, bare.Status);

        var categoryOnly = AzureMonitorNormalizer.Parse(Encoding.UTF8.GetBytes("""
            {"schemaId":"azureMonitorCommonAlertSchema","data":{"essentials":{"alertId":"a2","monitorCondition":"Resolved",
             "firedDateTime":"2026-11-26T03:00:00Z","resolvedDateTime":"2026-11-26T04:00:00Z"},"alertContext":{"AlertCategory":"budgets"}}}
            """));
        Assert.Equal("budgets", categoryOnly.Name);
        Assert.Equal(AlertStatus.Resolved, categoryOnly.Status);
    }

    [Theory]
    [InlineData("azuremonitor/ms-metric-alert-resolved.json", "WCUS-R2-Gen2", AlertStatus.Resolved, "Sev3")]
    [InlineData("azuremonitor/ms-activity-log-test-action.json", "test-activityLogAlertRule", AlertStatus.Firing, "Sev4")]
    [InlineData("azuremonitor/ms-availability-test-action.json", "test-availabilityTest-test-applicationInsights", AlertStatus.Firing, "Sev4")]
    [InlineData("azuremonitor/ms-service-health.json", "service-health-maintenance", AlertStatus.Firing, "Sev4")]
    [InlineData("azuremonitor/ms-prometheus.json", "SQLDown", AlertStatus.Firing, "Sev2")]
    [InlineData("azuremonitor/ms-budget-test-action.json", "Test_forcasted_budget", AlertStatus.Firing, null)]
    [InlineData("azuremonitor/ms-cost-budget-test-action.json", "Test_actual_cost_budget", AlertStatus.Firing, null)]
    public void Microsoft_published_samples_are_accepted_and_name_no_workload(string file, string name, AlertStatus status, string? severity)
    {
        var alert = ParseFile(file);
        Assert.Equal(name, alert.Name);
        Assert.Equal(status, alert.Status);
        Assert.Equal(severity, alert.Severity);
        Assert.Null(alert.Target);
        Assert.Equal(TargetProblemKind.NoWorkload, alert.TargetProblemKind);
        Assert.NotNull(alert.TargetProblem);
    }
}
