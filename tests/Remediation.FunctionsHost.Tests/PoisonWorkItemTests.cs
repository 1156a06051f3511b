using System.Net;
using System.Text.Json;
using Azure.Data.Tables;
using Remediation.ClusterSimulator;
using Remediation.FunctionsHost.Tests.Rpc;
using Remediation.Tests.Fixtures;

namespace Remediation.FunctionsHost.Tests;

/// <summary>
/// A work item that keeps failing: the fixture re-delivers it with increasing DequeueCount, moves it to
/// "&lt;queue&gt;-poison" after host.json's maxDequeueCount failures, and RecordPoisonedWorkItem records the incident Failed.
/// </summary>
public sealed class PoisonWorkItemTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task MessageFailingMaxDequeueCountTimesIsPoisonedAndRecordedFailed()
    {
        using var hostJson = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppPaths.AppDirectory, "host.json")));
        var maxDequeueCount = hostJson.RootElement.GetProperty("extensions").GetProperty("queues").GetProperty("maxDequeueCount").GetInt32();

        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        // Every read of the deployment answers 503: each attempt fails after its retries.
        cluster.Faults.Add(new FaultRule { Verb = "get", Resource = "deployments", StatusCode = 503, RetryAfterSeconds = 0 });
        var unique = "t" + Guid.NewGuid().ToString("N")[..12];
        var queueName = "work-" + unique;
        await using var host = new WorkerHostFixture();
        await host.LaunchAsync(WorkerHostFixture.Settings(azurite, new Dictionary<string, string?>
        {
            ["Remediation__Storage__IncidentsTable"] = unique,
            ["Remediation__Storage__WorkQueue"] = queueName,
            ["Remediation__Kubernetes__ServerUrl"] = cluster.BaseAddress.ToString(),
            ["Remediation__PolicyPath"] = Path.Combine(RepoPaths.Root, "examples", "policy.yaml"),
        }));
        await host.InitializeAsync(Timeout);

        var payload = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "Remediation.Tests", "Payloads", "alertmanager", "kube-pod-crashlooping.json"));
        var (response, _) = await HostTriggers.PostAsync(host, "AlertmanagerWebhook", "api/alerts/alertmanager", payload, Timeout);
        string incidentId;
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}\n{host.Output}");
            incidentId = JsonDocument.Parse(body).RootElement.GetProperty("incidents")[0].GetString()!;
        }

        var queue = HostTriggers.Queue(azurite.ConnectionString, queueName);
        var dequeueCounts = new List<long>();
        for (var attempt = 1; attempt <= maxDequeueCount; attempt++)
        {
            var message = await HostTriggers.ReceiveAsync(queue, TimeSpan.FromMinutes(1), Timeout);
            dequeueCounts.Add(message.DequeueCount);
            var result = await HostTriggers.DeliverAsync(host, "ProcessWorkItem", queue, message, maxDequeueCount, Timeout);
            Assert.True(result.Result.Status == StatusResult.Types.Status.Failure, $"attempt {attempt} did not fail: {result.Result}");
        }
        Assert.Equal(Enumerable.Range(1, maxDequeueCount).Select(i => (long)i), dequeueCounts);
        Assert.Null((await queue.PeekMessageAsync()).Value);

        var poison = HostTriggers.Queue(azurite.ConnectionString, queueName + "-poison");
        var poisoned = await HostTriggers.ReceiveAsync(poison, TimeSpan.FromMinutes(1), Timeout);
        Assert.Contains(incidentId, poisoned.MessageText, StringComparison.Ordinal);
        var recorded = await HostTriggers.DeliverAsync(host, "RecordPoisonedWorkItem", poison, poisoned, maxDequeueCount, Timeout);
        Assert.True(recorded.Result.Status == StatusResult.Types.Status.Success, $"{recorded.Result}\n{host.Output}");
        Assert.Null((await poison.PeekMessageAsync()).Value);

        var summary = await AlertToVerifiedRollbackTests.SummaryAsync(new TableClient(azurite.ConnectionString, unique), incidentId);
        Assert.Equal("Failed", summary.GetString("State"));
        Assert.Equal($"work item failed {maxDequeueCount} times and was moved to the poison queue", summary.GetString("OutcomeReason"));
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
    }
}
