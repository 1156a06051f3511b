using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Cli;

/// <summary>
/// `remediation plan` asks the same safety gate as the pipeline, so it reports the global concurrency cap from the
/// in-flight rows in storage (real Azurite), for live and dry-run policies alike.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class PlanGateTests(AzuriteFixture storage) : IDisposable
{
    private static readonly string CrashLoopingPayload = RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json");
    private readonly string _work = Directory.CreateTempSubdirectory("plan-gate-").FullName;

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Plan_reports_the_concurrency_cap_reached_by_the_remediations_in_flight(bool dryRun)
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        var policy = PolicyWithCap(3, dryRun);
        var table = "gate" + Guid.NewGuid().ToString("N")[..12];
        var service = new Azure.Data.Tables.TableServiceClient(storage.ConnectionString);
        var store = new IncidentStore(service.GetTableClient(table));
        var inFlight = new InFlightTable(service.GetTableClient(InFlightTable.NameFor(table)));
        var now = DateTimeOffset.UtcNow;
        await inFlight.AddInFlightAsync("inc-a", now.AddHours(1));
        await inFlight.AddInFlightAsync("inc-b", now.AddHours(1));
        await inFlight.AddInFlightAsync("inc-expired", now.AddHours(-1)); // its removal was lost; it no longer counts

        var under = await PlanAsync(cluster, policy, table);
        Assert.Contains("gate       allowed: within limits; 2 of 3 remediations in flight", under, StringComparison.Ordinal);
        Assert.Contains("decision   Act (rule 'roll-back-bad-rollouts')", under, StringComparison.Ordinal);
        Assert.Contains(dryRun ? "action     rollback (dry-run by policy): " : "action     rollback: ", under, StringComparison.Ordinal);

        await inFlight.AddInFlightAsync("inc-c", now.AddHours(1));
        var capped = await PlanAsync(cluster, policy, table);
        Assert.Contains("gate       escalated: within limits; concurrency cap 3 reached (3 remediations in flight)", capped, StringComparison.Ordinal);
        Assert.Contains("decision   Escalate (rule 'roll-back-bad-rollouts'): global concurrency cap: 3 remediations already in flight (max 3)", capped, StringComparison.Ordinal);
        Assert.DoesNotContain("action     rollback", capped, StringComparison.Ordinal);

        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
        Assert.Equal(3, await inFlight.CountInFlightAsync("none", DateTimeOffset.UtcNow));
        Assert.Empty(await store.ListAsync(new IncidentQuery()));
    }

    private string PolicyWithCap(int cap, bool dryRun)
    {
        var text = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));
        var edited = text.Replace("maxConcurrent: 10", $"maxConcurrent: {cap}", StringComparison.Ordinal)
            .Replace("dryRun: false", $"dryRun: {(dryRun ? "true" : "false")}", StringComparison.Ordinal);
        Assert.NotEqual(text, edited);
        Assert.Contains($"maxConcurrent: {cap}", edited, StringComparison.Ordinal);
        var path = Path.Combine(_work, $"policy-{dryRun}.yaml");
        File.WriteAllText(path, edited);
        return path;
    }

    private async Task<string> PlanAsync(SimulatedCluster cluster, string policy, string table)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Remediation.Host.Cli.RunAsync(
            ["plan", CrashLoopingPayload, "--kubernetes-server", cluster.BaseAddress.ToString(), "--policy", policy, "--storage", storage.ConnectionString, "--table", table],
            stdout, stderr);
        Assert.True(code == 0, stderr.ToString() + stdout);
        return stdout.ToString();
    }

    public void Dispose() => Directory.Delete(_work, recursive: true);
}
