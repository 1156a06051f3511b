using System.Diagnostics;
using Azure.Data.Tables;
using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.ClusterSimulator;
using Remediation.Ingest;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Alerts;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Reliability;
using Xunit.Abstractions;

namespace Remediation.Tests.Targeting;

/// <summary>
/// 100,000 alerts (10,000 distinct label sets, each re-sent ~10 times as Alertmanager does) whose target labels are drawn (seeded) from adversarial names — reserved URL characters,
/// percent-encodings, "..", look-alikes, upper case, whitespace, control characters, 254+ characters, empty — go through
/// the whole pipeline (Alertmanager normalizer, ingest on real Azurite, queue, aim, diagnose, decide, act) against the
/// cluster simulator. Every request the simulator saw names exactly a validated object, a dry run never mutates, a
/// live policy mutates nothing but what it allows, storage never fails, and every incident ends with a reason.
/// </summary>
public sealed class AdversarialTargetPropertyTests(ITestOutputHelper output)
{
    private const int Alerts = 100_000;
    private const int Delivery = 250;
    /// <summary>Distinct label sets: each is delivered ~10 times, as Alertmanager re-sends a firing alert every repeat_interval.</summary>
    private const int Distinct = 10_000;

    /// <summary>Every valid namespace the generator draws (so that many targets get as far as the cluster), kube-system aside.</summary>
    private static readonly string AllowedNamespaces = string.Join(", ",
        TargetPropertyTests.ValidNames.Where(n => KubernetesNames.IsLabel(n) && !RemediationPolicy.AlwaysDenied.Contains(n)).Select(n => $"\"{n}\""));

    private const string Rules = """
        rules:
          - name: roll-back-bad-rollouts
            when:
              classes: [BadRollout, ImagePull]
            action: rollback
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
          - name: scale-out-saturated
            when:
              classes: [Saturation]
            action: scale-out
        """;

    [Fact]
    public async Task Dry_run_policy_never_mutates_and_every_request_names_a_validated_object()
    {
        var (cluster, incidents) = await RunAsync($"""
            dryRun: true
            allow:
              namespaces: [{AllowedNamespaces}]
            {Rules}
            """, seed: 20261130);

        Assert.DoesNotContain(cluster, r => r.IsMutating);
        Assert.Contains(cluster, r => r.DryRun && r.Verb == "patch" && r.Name == "checkout");
        Assert.Contains(incidents, i => i.State == IncidentState.DryRun);
    }

    [Fact]
    public async Task Live_policy_allowing_only_shop_checkout_mutates_no_other_object()
    {
        var (cluster, incidents) = await RunAsync($"""
            allow:
              namespaces: [{AllowedNamespaces}]
              workloads: ["shop/checkout"]
            {Rules}
            """, seed: 20261201);

        var mutations = cluster.Where(r => r.IsMutating).ToList();
        Assert.NotEmpty(mutations);
        Assert.All(mutations, r => Assert.Equal(("shop", "checkout"), (r.Namespace, r.Name)));
        Assert.Contains(incidents, i => i.State is IncidentState.Verifying && i.Workload == "checkout");
    }

    private async Task<(IReadOnlyList<RecordedRequest> Requests, List<Summary> Incidents)> RunAsync(string policy, ulong seed)
    {
        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var harness = await PipelineHarness.StartAsync(azurite.ConnectionString, "bad-rollout.yaml", policy);
        harness.Cluster.ClearRequests();
        var ingestor = harness.Services.GetRequiredService<AlertIngestor>();
        var pcg = new PCG(1, seed);
        var pool = Enumerable.Range(0, Distinct).Select(_ =>
        {
            var labels = TargetPropertyTests.LabelSets.Generate(pcg, null, out CsCheck.Size _);
            labels["alertname"] = "KubePodCrashLooping";
            return labels;
        }).ToArray();
        var pick = Gen.Int[0, Distinct - 1];
        var clock = Stopwatch.StartNew();
        int targeted = 0, deliveries = 0, sentAlerts = 0;
        while (sentAlerts < Alerts)
        {
            var payload = new AlertmanagerPayload { Version = "4", Status = "firing", Alerts = [] };
            // Alertmanager never repeats an alert within one delivery.
            foreach (var labels in Enumerable.Range(0, Delivery).Select(_ => pool[pick.Generate(pcg, null, out CsCheck.Size _)]).Distinct())
            {
                payload.Alerts.Add(new AlertmanagerAlert { Status = "firing", Labels = labels, StartsAt = PipelineHarness.Start });
            }
            var alerts = AlertmanagerNormalizer.Normalize(payload);
            sentAlerts += alerts.Count;
            targeted += alerts.Count(a => a.Target is not null);
            // A storage fault would throw here (the HTTP edge answers it with 503): the property is that none occurs.
            await ingestor.IngestAsync(alerts);
            if (++deliveries % 8 == 0)
            {
                await harness.DrainAsync();
            }
        }
        await harness.DrainAsync();
        var elapsed = clock.Elapsed;

        var requests = harness.Cluster.Requests;
        foreach (var request in requests)
        {
            AssertNamesAValidatedObject(request);
        }
        var table = harness.Store.Table;
        var incidents = new List<Summary>();
        await foreach (var row in table.QueryAsync<TableEntity>(IncidentRowKeys.SummaryFilter, select: ["PartitionKey", "State", "OutcomeReason", "Workload"]))
        {
            incidents.Add(new Summary(row.PartitionKey, Enum.Parse<IncidentState>(row.GetString("State")), row.GetString("OutcomeReason"), row.GetString("Workload")));
        }
        var byState = incidents.GroupBy(i => i.State).OrderByDescending(g => g.Count()).Select(g => $"{g.Key} {g.Count()}");
        ReliabilitySupport.Report(output, $"{sentAlerts} alerts ({Distinct} distinct label sets) in {deliveries} deliveries in {elapsed.TotalSeconds:0.0}s: {targeted} with a target; {incidents.Count} incidents ({string.Join(", ", byState)}); " +
            $"{requests.Count} cluster requests ({requests.Count(r => r.DryRun)} dry-run, {requests.Count(r => r.IsMutating)} mutating)");
        Assert.True(incidents.Count > Distinct / 2, $"only {incidents.Count} incidents");
        var stuck = incidents.Where(i => !IncidentLifecycle.IsTerminal(i.State) && i.State != IncidentState.Verifying).ToList();
        foreach (var incident in stuck.Take(5))
        {
            var record = await harness.Store.GetAsync(incident.Id);
            output.WriteLine($"not concluded: {incident.Id} {incident.State}: {record?.AlertJson}");
        }
        Assert.True(requests.Count > 100, $"only {requests.Count} cluster requests: the pipeline barely reached the cluster");
        foreach (var incident in incidents)
        {
            Assert.True(IncidentLifecycle.IsTerminal(incident.State) || incident.State == IncidentState.Verifying, $"incident {incident.Id} ended {incident.State}");
            Assert.False(string.IsNullOrWhiteSpace(incident.Reason), $"incident {incident.Id} ({incident.State}) has no reason");
        }
        return (requests, incidents);
    }

    private sealed record Summary(string Id, IncidentState State, string? Reason, string? Workload);

    /// <summary>The raw path is plain (no escapes) and its namespace and name segments are valid Kubernetes names.</summary>
    private static void AssertNamesAValidatedObject(RecordedRequest request)
    {
        Assert.True(request.RawPath == request.Path, $"escaped path {request.RawPath}");
        Assert.DoesNotContain('%', request.RawPath);
        Assert.True(request.Query.Split('&').Count(p => p.StartsWith("dryRun=", StringComparison.Ordinal)) <= 1, $"query {request.Query}");
        var segments = request.RawPath.Trim('/').Split('/');
        var at = Array.IndexOf(segments, "namespaces");
        if (at < 0 || at + 1 >= segments.Length)
        {
            return; // discovery and cluster-scoped reads name no object
        }
        Assert.True(KubernetesNames.IsLabel(segments[at + 1]), $"namespace segment of {request.RawPath}");
        Assert.Equal(request.Namespace, segments[at + 1]);
        if (at + 3 < segments.Length)
        {
            Assert.True(KubernetesNames.IsSubdomain(segments[at + 3]), $"name segment of {request.RawPath}");
            Assert.Equal(request.Name, segments[at + 3]);
        }
    }
}
