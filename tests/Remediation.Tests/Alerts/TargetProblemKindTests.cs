using Remediation.Alerts;
using Remediation.Policy;

namespace Remediation.Tests.Alerts;

/// <summary>"No Kubernetes workload named at all" (ignorable) is told apart from "a Kubernetes object named invalidly" (always escalated).</summary>
public sealed class TargetProblemKindTests
{
    [Theory]
    [InlineData(TargetProblemKind.NoWorkload, "alertname", "HostHighCpuLoad", "instance", "10.0.0.7:9100")]
    [InlineData(TargetProblemKind.NoWorkload, "alertname", "KubeQuotaExceeded", "namespace", "shop")]
    [InlineData(TargetProblemKind.NoWorkload, "namespace", "monitoring", "pod", "kube-state-metrics-6d4f8b9c7-abcde", "job", "kube-state-metrics")]
    [InlineData(TargetProblemKind.Invalid, "namespace", "shop", "deployment", "Checkout_Bad")]
    [InlineData(TargetProblemKind.Invalid, "namespace", "Shop!", "deployment", "checkout")]
    [InlineData(TargetProblemKind.Invalid, "deployment", "checkout")]
    [InlineData(TargetProblemKind.Invalid, "namespace", "shop", "pod", "bad pod")]
    [InlineData(TargetProblemKind.Invalid, "namespace", "shop", "workload", "checkout")]
    [InlineData(TargetProblemKind.Invalid, "destination_workload", "unknown", "destination_workload_namespace", "shop")]
    [InlineData(TargetProblemKind.None, "namespace", "shop", "deployment", "checkout")]
    public void The_resolver_says_which_kind_of_problem_it_found(TargetProblemKind expected, params string[] pairs)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < pairs.Length; i += 2)
        {
            labels[pairs[i]] = pairs[i + 1];
        }
        var (target, problem, kind) = TargetResolver.ResolveWithKind(labels);
        Assert.Equal(expected, kind);
        Assert.Equal(expected == TargetProblemKind.None, target is not null);
        Assert.Equal(expected == TargetProblemKind.None, problem is null);
        Assert.Equal(TargetResolver.Resolve(labels), (target, problem));
    }

    [Fact]
    public void Invalid_name_is_never_ignored_whatever_the_policy_says()
    {
        var invalid = Alertmanager("""{"alertname":"X","namespace":"shop","deployment":"Checkout_Bad"}""");
        var unmapped = Alertmanager("""{"alertname":"HostHighCpuLoad","instance":"10.0.0.7:9100"}""");
        Assert.Equal(TargetProblemKind.Invalid, invalid.TargetProblemKind);
        Assert.Contains("'deployment'", invalid.TargetProblem, StringComparison.Ordinal);
        Assert.Equal(TargetProblemKind.NoWorkload, unmapped.TargetProblemKind);

        var ignoring = new RemediationPolicy();
        var escalating = new RemediationPolicy { UnmappedAlerts = UnmappedAlerts.Escalate };
        Assert.Equal(UnmappedAlerts.Ignore, ignoring.UnmappedAlerts);
        Assert.True(ignoring.Ignores(unmapped));
        Assert.False(ignoring.Ignores(invalid));
        Assert.False(escalating.Ignores(unmapped));
        Assert.False(escalating.Ignores(invalid));
        Assert.Contains("unmappedAlerts: ignore", ignoring.UnmappedReason(unmapped), StringComparison.Ordinal);
        Assert.StartsWith("cannot map the alert to a Kubernetes workload", ignoring.UnmappedReason(invalid), StringComparison.Ordinal);
    }

    private static NormalizedAlert Alertmanager(string labels) =>
        Assert.Single(AlertmanagerNormalizer.Parse(System.Text.Encoding.UTF8.GetBytes(
            $$"""{"version":"4","status":"firing","alerts":[{"labels":{{labels}},"startsAt":"2026-11-26T03:00:00Z"}]}""")));
}
