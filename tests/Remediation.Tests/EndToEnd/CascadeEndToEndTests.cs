using System.Diagnostics;
using Remediation.Storage;
using Remediation.Tests.Diagnosis;
using Remediation.Tests.Fixtures;
using Remediation.Tests.ServiceGraph;
using Xunit.Abstractions;

namespace Remediation.Tests.EndToEnd;

/// <summary>
/// One remediation per cascade with real monitoring in front: Prometheus scrapes the simulator's Istio metrics and
/// evaluates the 5xx-ratio rule per destination workload, Alertmanager delivers each workload's alert to the standalone
/// host with its real payloads, and the product rolls back the culprit only, its callers recorded as its victims.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class CascadeEndToEndTests(AzuriteFixture storage, ITestOutputHelper output)
{
    private const string Alert = "IstioHigh5xxErrorRate";
    private const string Healthy = "registry.example/payments:1.3.0";
    private static readonly string[] Cascade = ["frontend", "checkout", "payments"];

    [Fact]
    public async Task Cascade_alerts_fire_for_all_three_and_only_payments_is_rolled_back_with_its_callers_victims_closed_with_it()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("cascade.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        await CascadePipelineTests.SetImageAsync(client, "payments", Healthy);
        await using var stack = await MonitoringStack.StartAsync(cluster, storage.ConnectionString, CascadePipelineTests.Policy(),
            PrometheusAlertmanagerEndToEndTests.Rules, CascadePipelineTests.Settings);
        var (prometheus, host, alertmanager) = (stack.Prometheus, stack.Host, stack.Alertmanager);

        // A healthy baseline 45 s back (the diagnosis' offset), then the bad rollout of payments.
        await prometheus.WaitForSeriesAsync(
            "(sum(rate(istio_requests_total{destination_workload=\"payments\"}[15s] offset 45s)) > 0) unless (sum(rate(istio_requests_total{destination_workload=\"payments\",response_code=~\"5..\"}[15s] offset 45s)) > 0)",
            timeout: TimeSpan.FromSeconds(120));
        Assert.Empty(await host.Store.ListAsync(new IncidentQuery(Namespace: "shop")));
        await CascadePipelineTests.SetImageAsync(client, "payments", "registry.example/payments:1.4.1");
        var rolledOut = cluster.Requests.Count;

        var incidents = await WaitForCascadeAsync(host, alertmanager, TimeSpan.FromSeconds(180));
        await host.WaitForNoPendingWorkAsync(TimeSpan.FromSeconds(60), [.. incidents.Select(i => i.IncidentId)]);
        incidents = await host.Store.ListAsync(new IncidentQuery(Namespace: "shop"));
        Print(incidents);

        // Exactly one mutation: the rollback of payments, by the one incident that acted, verified.
        var rollback = Assert.Single(cluster.Requests.Skip(rolledOut), r => r.IsMutating);
        Assert.Equal(("deployments", "payments"), (rollback.Resource, rollback.Name));
        Assert.Equal(Healthy, CascadePipelineTests.Image(cluster, "payments"));
        var lead = Assert.Single(incidents, i => i.Action is not null);
        Assert.Equal(("payments", IncidentState.Succeeded, "rollback", "BadRollout"), (lead.Workload, lead.State, lead.Action, lead.DiagnosisClass));

        // Each workload's alert came through Alertmanager; the callers' are victims linked to the lead, payments' own leads or joined it.
        var delivered = incidents.Where(FromAlertmanager).ToList();
        Assert.Equal(Cascade.Order(), delivered.Select(i => i.Workload!).Distinct().Order());
        Assert.All(delivered, i => Assert.Equal((Alert, "alertmanager"), (i.AlertName, i.Source.ToLowerInvariant())));
        CascadePipelineTests.AssertVictims(delivered, lead, "payments", "frontend", "checkout");
        CascadePipelineTests.AssertOwnAlertLedOrGrouped(incidents, lead, Assert.Single(delivered, i => i.Workload == "payments").IncidentId);
        Assert.All(incidents, i => Assert.True(IncidentLifecycle.IsTerminal(i.State) && (i.GroupId is null || IncidentGroupClosure.IsClosed(i)), $"{i.Workload}: {i.State}"));
    }

    /// <summary>An incident of an alert Alertmanager delivered (not a culprit's lead derived by the blame).</summary>
    private static bool FromAlertmanager(IncidentRecord incident) => !incident.Fingerprint.StartsWith("culprit|", StringComparison.Ordinal);

    /// <summary>
    /// Waits until Alertmanager has delivered an alert for each workload of the cascade and every incident is over, its
    /// group's members closed; fails with the incidents and Alertmanager's log.
    /// </summary>
    private async Task<IReadOnlyList<IncidentRecord>> WaitForCascadeAsync(HostHarness host, AlertmanagerProcess alertmanager, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        IReadOnlyList<IncidentRecord> incidents = [];
        while (clock.Elapsed < timeout)
        {
            incidents = await host.Store.ListAsync(new IncidentQuery(Namespace: "shop"));
            var alerted = incidents.Where(FromAlertmanager).Select(i => i.Workload).Distinct().Count();
            if (alerted == Cascade.Length && incidents.All(i => IncidentLifecycle.IsTerminal(i.State) && (i.GroupId is null || IncidentGroupClosure.IsClosed(i))))
            {
                return incidents;
            }
            await Task.Delay(250);
        }
        Print(incidents);
        throw new TimeoutException($"the cascade's incidents did not all conclude in {timeout.TotalSeconds:0} s; alertmanager log: {alertmanager.Log}");
    }

    private void Print(IReadOnlyList<IncidentRecord> incidents)
    {
        foreach (var i in incidents.OrderBy(i => i.ReceivedAt))
        {
            output.WriteLine($"{i.IncidentId[..8]} {i.Source}/{i.AlertName} {i.Namespace}/{i.Workload} {i.State} [{i.DiagnosisClass}] group={i.GroupId?[..8]} action={i.Action} outcome={i.Outcome}: {i.OutcomeReason}");
            output.WriteLine($"    diagnosis: {i.DiagnosisSummary}");
        }
    }
}
