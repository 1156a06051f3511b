using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Skeleton;

/// <summary>A work item that keeps failing goes to the poison queue after 5 dequeues and its incident is recorded Failed.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class PoisonWorkItemTests(AzuriteFixture storage)
{
    [Fact]
    public async Task Work_item_failing_5_times_is_poisoned_and_recorded_failed_never_dropped()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        // The cluster answers 503 to every read of the deployment: each attempt fails after its retries.
        cluster.Faults.Add(new FaultRule { Verb = "get", Resource = "deployments", StatusCode = 503, RetryAfterSeconds = 0 });
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, HostHarness.DefaultPolicy, new Dictionary<string, string?>
        {
            // Longer than one attempt (three retries with back-off), so attempts do not overlap.
            ["Remediation:Host:VisibilityTimeout"] = "00:00:03",
            ["Remediation:Host:SweepInterval"] = "01:00:00",
        });
        var incidentId = await host.PostAlertmanagerAsync("alertmanager/kube-pod-crashlooping.json");

        var incident = await host.WaitForStateAsync(incidentId, TimeSpan.FromSeconds(90), IncidentState.Failed);
        Assert.Matches("work item failed [5-9] times, moved to the poison queue", incident.OutcomeReason);
        var poisoned = await host.Queue.Poison.PeekMessagesAsync(10);
        var message = Assert.Single(poisoned.Value);
        Assert.Equal(incidentId, Assert.Single(WorkMessage.Parse(message.Body.ToString()).Items).IncidentId);
        Assert.Empty((await host.Queue.Queue.PeekMessagesAsync(10)).Value);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
        Assert.True(cluster.Requests.Count(r => r.Verb == "get" && r.Resource == "deployments") >= 5);
    }
}
