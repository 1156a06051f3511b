using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Remediation.ClusterSimulator;
using Remediation.FunctionsHost.Tests.Rpc;
using Remediation.Tests.Fixtures;

namespace Remediation.FunctionsHost.Tests;

/// <summary>
/// The Functions app end to end through the fixture's host side: an Alertmanager alert over HTTP is claimed in Azurite,
/// its work message is delivered to ProcessWorkItem, the simulated cluster is rolled back, and the timer's sweep verifies it.
/// </summary>
public sealed class AlertToVerifiedRollbackTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(60);

    [Fact]
    public async Task AlertIsClaimedProcessedRolledBackAndVerifiedBySweep()
    {
        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        var unique = "t" + Guid.NewGuid().ToString("N")[..12];
        var policyPath = Path.Combine(Path.GetTempPath(), $"policy-{unique}.yaml");
        // examples/policy.yaml with a short soak (and no cooldown in the way).
        var policy = Regex.Replace(await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "examples", "policy.yaml")), @"verifySoak:\s*\S+", "verifySoak: 2s");
        await File.WriteAllTextAsync(policyPath, policy);
        var queueName = "work-" + unique;
        await using var host = new WorkerHostFixture();
        await host.LaunchAsync(WorkerHostFixture.Settings(azurite, new Dictionary<string, string?>
        {
            ["Remediation__Storage__IncidentsTable"] = unique,
            ["Remediation__Storage__WorkQueue"] = queueName,
            ["Remediation__Kubernetes__ServerUrl"] = cluster.BaseAddress.ToString(),
            ["Remediation__PolicyPath"] = policyPath,
        }));
        await host.InitializeAsync(Timeout);

        // HTTP: the host forwards the request to the worker's listener, correlated with its InvocationRequest.
        var payload = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "tests", "Remediation.Tests", "Payloads", "alertmanager", "kube-pod-crashlooping.json"));
        var (response, invocation) = await HostTriggers.PostAsync(host, "AlertmanagerWebhook", "api/alerts/alertmanager", payload, Timeout);
        using (response)
        {
            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, $"{response.StatusCode}: {body}\n{host.Output}");
            Assert.Equal(StatusResult.Types.Status.Success, invocation.Result.Status);
            var incidentId = JsonDocument.Parse(body).RootElement.GetProperty("incidents")[0].GetString()!;

            // Claimed in Azurite: the incident's summary row exists, not yet acted on.
            var table = new TableClient(azurite.ConnectionString, unique);
            Assert.Equal("Received", await StateAsync(table, incidentId));

            // Queue: the work message is delivered to ProcessWorkItem (from the queue the setting names).
            var queue = HostTriggers.Queue(azurite.ConnectionString, queueName);
            var message = await HostTriggers.ReceiveAsync(queue, TimeSpan.FromSeconds(15), Timeout);
            Assert.Contains(incidentId, message.MessageText, StringComparison.Ordinal);
            var processed = await HostTriggers.DeliverAsync(host, "ProcessWorkItem", queue, message, maxDequeueCount: 5, Timeout);
            Assert.True(processed.Result.Status == StatusResult.Types.Status.Success, $"{processed.Result}\n{host.Output}");
            Assert.Equal("Verifying", await StateAsync(table, incidentId));
            var mutation = Assert.Single(cluster.Requests, r => r.IsMutating);
            Assert.Equal("deployments", mutation.Resource);
            Assert.Equal("checkout", mutation.Name);

            // Timer: ticks (as the schedule would fire) until the sweep concludes the incident after its soak. The scheduled
            // check message the act enqueued is never delivered here, so only the sweep can conclude it.
            var deadline = DateTimeOffset.UtcNow + Timeout;
            string? state;
            do
            {
                var tick = await HostTriggers.TickAsync(host, "VerifyRemediations", Timeout);
                Assert.True(tick.Result.Status == StatusResult.Types.Status.Success, $"{tick.Result}\n{host.Output}");
                state = await StateAsync(table, incidentId);
                if (state != "Verifying" || DateTimeOffset.UtcNow > deadline)
                {
                    break;
                }
                await Task.Delay(TimeSpan.FromSeconds(1)); // the next tick of a once-a-second schedule
            }
            while (true);
            Assert.Equal("Succeeded", state);
            var summary = await SummaryAsync(table, incidentId);
            Assert.Equal("rollback", summary.GetString("Action"));
            Assert.StartsWith("verified: rollout complete", summary.GetString("OutcomeReason"), StringComparison.Ordinal);
            Assert.Single(cluster.Requests, r => r.IsMutating);
        }
        File.Delete(policyPath);
    }

    internal static async Task<TableEntity> SummaryAsync(TableClient table, string incidentId)
    {
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == incidentId))
        {
            if (row.RowKey.StartsWith("incident", StringComparison.Ordinal))
            {
                return row;
            }
        }
        throw new InvalidOperationException($"no summary row for incident {incidentId}");
    }

    internal static async Task<string?> StateAsync(TableClient table, string incidentId) => (await SummaryAsync(table, incidentId)).GetString("State");
}
