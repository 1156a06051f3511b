using Remediation.Alerts;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Alerts;

public sealed class AlertmanagerNormalizerTests
{
    private static IReadOnlyList<NormalizedAlert> Load(string name) =>
        AlertmanagerNormalizer.Parse(File.ReadAllBytes(RepoPaths.Payload($"alertmanager/{name}")));

    [Fact]
    public void Kube_prometheus_crashloop_alert_targets_the_pod_and_leaves_its_owner_to_the_cluster()
    {
        var alert = Assert.Single(Load("kube-pod-crashlooping.json"));
        Assert.Equal("KubePodCrashLooping", alert.Name);
        Assert.Equal(AlertStatus.Firing, alert.Status);
        Assert.Equal(new WorkloadTarget("shop", "checkout-76bf44d6cf-4crt4", WorkloadKinds.Pod), alert.Target);
        Assert.Equal("5ef77f1f8ad0c9a3", alert.Fingerprint);
        Assert.Equal("warning", alert.Severity);
        Assert.Null(alert.EndsAt);
        Assert.Equal(new DateTimeOffset(2026, 11, 26, 3, 10, 41, 512, TimeSpan.Zero), alert.StartsAt);
    }

    [Fact]
    public void Istio_alert_targets_the_destination_workload()
    {
        var alert = Assert.Single(Load("istio-high-error-rate.json"));
        Assert.Equal(new WorkloadTarget("shop", "reviews-v2"), alert.Target);
    }

    [Fact]
    public void Resolved_alert_has_the_same_incident_as_its_firing_one_and_unmappable_alerts_say_why()
    {
        var firing = Assert.Single(Load("kube-pod-crashlooping.json"));
        var resolved = Load("resolved-and-watchdog.json");
        Assert.Equal(2, resolved.Count);
        Assert.Equal(AlertStatus.Resolved, resolved[0].Status);
        Assert.Equal(firing.IncidentId, resolved[0].IncidentId);
        Assert.NotNull(resolved[0].EndsAt);
        Assert.Null(resolved[1].Target);
        Assert.Contains("neither a namespace nor a workload", resolved[1].TargetProblem, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("namespace=shop,deployment=checkout", "deployment/checkout -n shop")]
    [InlineData("namespace=shop,pod=checkout-7d9c6b5f4-x2x9k", "pod/checkout-7d9c6b5f4-x2x9k -n shop")]
    [InlineData("namespace=shop,replicaset=checkout-7d9c6b5f4", "replicaset/checkout-7d9c6b5f4 -n shop")]
    [InlineData("namespace=shop,horizontalpodautoscaler=api", "horizontalpodautoscaler/api -n shop")]
    [InlineData("destination_workload_namespace=shop,destination_workload=reviews-v2", "deployment/reviews-v2 -n shop")]
    [InlineData("namespace=shop,workload=api,workload_type=deployment", "deployment/api -n shop")]
    [InlineData("namespace=shop,app=cart", "deployment/cart -n shop")]
    [InlineData("exported_namespace=shop,deployment=cart,namespace=monitoring", "deployment/cart -n shop")]
    public void Target_resolution_follows_the_labels_real_rules_use(string labels, string expected)
    {
        var dict = labels.Split(',').Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var (target, problem) = TargetResolver.Resolve(dict);
        Assert.Null(problem);
        Assert.Equal(expected, target!.Describe());
    }

    [Fact]
    public void Fingerprint_is_derived_from_labels_when_absent_and_is_order_independent()
    {
        var a = IncidentIdentity.FingerprintOf(new Dictionary<string, string> { ["a"] = "1", ["b"] = "2" });
        var b = IncidentIdentity.FingerprintOf(new Dictionary<string, string> { ["b"] = "2", ["a"] = "1" });
        var c = IncidentIdentity.FingerprintOf(new Dictionary<string, string> { ["a"] = "1", ["b"] = "3" });
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.Equal(16, a.Length);
    }

    [Theory]
    // Version 3 (Alertmanager before 0.16): groupKey was a number, which a full read of a version 4 payload trips over.
    [InlineData("""{"receiver":"r","status":"firing","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-26T03:00:00Z"}],"groupKey":1234567890,"version":"3"}""", "\"3\"")]
    [InlineData("""{"groupKey":{"nested":[1,2]},"version":3,"alerts":"not even an array"}""", "\"3\"")]
    [InlineData("""{"version":"5","alerts":[]}""", "\"5\"")]
    public void Another_payload_version_is_refused_naming_the_supported_one(string body, string version)
    {
        var ex = Assert.Throws<AlertParseException>(() => AlertmanagerNormalizer.Parse(System.Text.Encoding.UTF8.GetBytes(body)));
        Assert.Equal("$.version", ex.Field);
        Assert.Equal($"Alertmanager webhook payload version {version} is not supported; expected version \"4\"", ex.Message);
        Assert.DoesNotContain("System.", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("groupKey", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Version_4_and_a_missing_version_are_read()
    {
        Assert.Single(AlertmanagerNormalizer.Parse("""{"version":"4","alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-26T03:00:00Z"}]}"""u8));
        Assert.Single(AlertmanagerNormalizer.Parse("""{"alerts":[{"status":"firing","labels":{"alertname":"A"},"startsAt":"2026-11-26T03:00:00Z"}],"version":null}"""u8));
    }
}
