using Remediation.Alerts;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Targeting;

/// <summary>
/// An incident stopped at its owner (the policy refuses the owner) records the owner as its workload, as an incident
/// that goes on does: found from outside, it recorded the pod the alert named, so filtering the history by the
/// workload missed it.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class RecordedOwnerTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_pod_alert_refused_for_its_owner_records_the_owner()
    {
        const string policy = """
            allow:
              namespaces: [shop]
              workloads: ["shop/front*"]
            rules:
              - name: roll-back
                when: { classes: [BadRollout, CrashLoop] }
                action: rollback
            """;
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", policy);
        var pod = harness.Cluster.ListObjects("pods", "shop")
            .Select(p => p["metadata"]!["name"]!.GetValue<string>())
            .First(name => name.StartsWith("checkout-", StringComparison.Ordinal));
        var labels = new Dictionary<string, string> { ["alertname"] = "KubePodCrashLooping", ["namespace"] = "shop", ["pod"] = pod, ["container"] = "app" };
        var incident = await harness.FireAsync(new NormalizedAlert
        {
            Source = AlertSource.Alertmanager, Name = "KubePodCrashLooping", Status = AlertStatus.Firing,
            Fingerprint = IncidentIdentity.FingerprintOf(labels), StartsAt = PipelineHarness.Start, Labels = labels,
            Target = TargetResolver.Resolve(labels).Target,
        });

        Assert.Equal(IncidentState.Refused, incident.State);
        Assert.Contains($"pod/{pod}", incident.OutcomeReason, StringComparison.Ordinal);
        Assert.Equal(("shop", "checkout"), (incident.Namespace, incident.Workload));
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }
}
