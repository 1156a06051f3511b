using Remediation.Alerts;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Policy;

/// <summary>
/// A rule's <c>when.labels</c> is matched on the object acted on: found from outside, an alert whose labels named the
/// object through <c>exported_*</c> (kube-state-metrics scraped without honor_labels) or beside a label the resolver
/// passed over chose another rule, and a rule's dry run was skipped: the workload was really rolled back.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RuleLabelsTests(AzuriteFixture storage)
{
    private const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          verifySoak: 2s
          verifyDeadline: 2m
        rules:
          - name: shop-rollbacks-are-dry-run
            when: { classes: [BadRollout], labels: { namespace: shop } }
            action: rollback
            dryRun: true
          - name: roll-back-only-frontend
            when: { classes: [BadRollout], labels: { deployment: frontend } }
            action: rollback
          - name: escalate-the-rest
            when: { classes: [BadRollout] }
            action: escalate
        """;

    [Fact]
    public void The_labels_that_name_the_object_are_the_targets()
    {
        var labels = RuleLabels.Of(new Dictionary<string, string>
        {
            ["namespace"] = "monitoring", ["exported_namespace"] = "shop", ["deployment"] = "frontend", ["exported_deployment"] = "checkout",
            ["pod"] = "kube-state-metrics-0", ["exported_pod"] = "checkout-6d9f-abcde", ["workload"] = "x", ["severity"] = "critical",
        }, new WorkloadTarget("shop", "checkout"));

        Assert.Equal(("shop", "checkout", "checkout-6d9f-abcde", "checkout", "critical"),
            (labels["namespace"], labels["deployment"], labels["pod"], labels["workload"], labels["severity"]));
    }

    [Fact]
    public async Task A_rule_scoped_to_a_namespace_holds_when_the_object_came_as_exported_namespace()
    {
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", Policy);
        var incident = await harness.FireAsync(Alert(new()
        {
            ["alertname"] = "KubeDeploymentReplicasMismatch", ["job"] = "kube-state-metrics", ["namespace"] = "monitoring",
            ["exported_namespace"] = "shop", ["deployment"] = "checkout",
        }));

        Assert.Equal(IncidentState.DryRun, incident.State);
        Assert.Contains("shop-rollbacks-are-dry-run", incident.OutcomeReason ?? incident.DiagnosisSummary, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task A_rule_scoped_to_a_deployment_does_not_match_another_object_named_beside_it()
    {
        // The object is shop/checkout (exported_deployment comes first); the rule for frontend must not act on it.
        var policy = Policy.Replace("labels: { namespace: shop }", "labels: { namespace: elsewhere }", StringComparison.Ordinal);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", policy);
        var incident = await harness.FireAsync(Alert(new() { ["alertname"] = "KubeDeploymentReplicasMismatch", ["namespace"] = "shop", ["exported_deployment"] = "checkout", ["deployment"] = "frontend" }));

        Assert.Equal(IncidentState.Escalated, incident.State);
        Assert.Contains("escalate-the-rest", incident.OutcomeReason, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }

    private static NormalizedAlert Alert(Dictionary<string, string> labels)
    {
        var (target, problem) = TargetResolver.Resolve(labels);
        Assert.Null(problem);
        Assert.Equal(new WorkloadTarget("shop", "checkout"), target);
        return new NormalizedAlert
        {
            Source = AlertSource.Alertmanager, Name = labels["alertname"], Status = AlertStatus.Firing,
            Fingerprint = IncidentIdentity.FingerprintOf(labels), StartsAt = PipelineHarness.Start, Labels = labels, Target = target,
        };
    }
}
