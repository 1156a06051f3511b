using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Ingest;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Reliability;

/// <summary>
/// Two standalone hosts (separate service providers and worker identities, one Azurite table and queue) process the
/// same incident at the same moment, ≥ 1,000 times → never two patches for one incident, and exactly one where the
/// policy allows (it always does here: cooldown 0s, limits high). Deployments have 0 replicas so a thousand
/// restarts stay cheap for the simulator.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TwoHostRaceTests(AzuriteFixture storage, ITestOutputHelper output)
{
    public const int Deployments = 20;
    public const int TrialsPerDeployment = 50;

    private const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 0s
          window: 1s
          maxActionsPerWindow: 1000000
          breakerFailures: 1000000
          maxConcurrent: 1000000
        rules:
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
        """;

    [Fact]
    public async Task Two_hosts_racing_on_1000_incidents_never_act_twice()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(ReliabilitySupport.WriteScenario(Deployments, healthy: true, replicas: 0));
        await cluster.ReconcileAsync();
        var prefix = "race" + Guid.NewGuid().ToString("N")[..10];
        void Diagnoser(IServiceCollection services) => services.AddSingleton<IDiagnoser>(FixedDiagnoser.Of(FailureClass.CrashLoop));
        await using var hostA = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy, worker: false, tablePrefix: prefix,
            settings: new Dictionary<string, string?> { ["Remediation:InstanceId"] = "host-a" }, configureServices: Diagnoser);
        await using var hostB = await HostHarness.StartAsync(storage.ConnectionString, cluster.BaseAddress, Policy, worker: false, tablePrefix: prefix,
            settings: new Dictionary<string, string?> { ["Remediation:InstanceId"] = "host-b" }, configureServices: Diagnoser);
        var ingestor = hostA.Services.GetRequiredService<AlertIngestor>();
        var pipelineA = hostA.Services.GetRequiredService<RemediationPipeline>();
        var pipelineB = hostB.Services.GetRequiredService<RemediationPipeline>();

        int trials = 0, doubles = 0, none = 0, exactlyOne = 0, bothSawWork = 0;
        var outcomes = new System.Collections.Concurrent.ConcurrentDictionary<IncidentState, int>();
        var problems = new System.Collections.Concurrent.ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(Enumerable.Range(0, Deployments), new ParallelOptions { MaxDegreeOfParallelism = Deployments }, async (d, ct) =>
        {
            var deployment = ReliabilitySupport.Deployment(d);
            for (var t = 0; t < TrialsPerDeployment; t++)
            {
                var alert = PipelineHarness.Alert("shop", deployment, fingerprint: $"race-{d}-{t}", startsAt: ReliabilitySupport.StartsAt.AddMinutes(t));
                await ingestor.IngestAsync([alert], ct);
                var before = Applied(cluster, deployment);
                var item = new WorkItem(alert.IncidentId);
                var results = await Task.WhenAll(
                    Task.Run(() => pipelineA.ProcessAsync(item, ct), ct),
                    Task.Run(() => pipelineB.ProcessAsync(item, ct), ct));
                var patches = Applied(cluster, deployment) - before;
                Interlocked.Increment(ref trials);
                _ = patches switch
                {
                    0 => Interlocked.Increment(ref none),
                    1 => Interlocked.Increment(ref exactlyOne),
                    _ => Interlocked.Increment(ref doubles),
                };
                var incident = await hostB.Store.GetAsync(alert.IncidentId, ct);
                outcomes.AddOrUpdate(incident!.State, 1, (_, n) => n + 1);
                if (results.All(r => r.State != IncidentState.Verifying))
                {
                    problems.Enqueue($"{alert.IncidentId} on {deployment}: results {string.Join("/", results)}, {patches} patches: {incident.OutcomeReason}");
                }
                if (results[0].State == IncidentState.Verifying && results[1].State == IncidentState.Verifying)
                {
                    Interlocked.Increment(ref bothSawWork);
                }
                var rows = await ReliabilitySupport.RowsAsync(hostA.Store.Table, alert.IncidentId);
                if (rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent) != 1 || rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey) != 1)
                {
                    problems.Enqueue($"{alert.IncidentId}: {rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent)} intent rows, {rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey)} outcome rows");
                }
            }
        });

        ReliabilitySupport.Report(output,
            $"two hosts: {trials} trials (incident delivered to both hosts at once) in {clock.Elapsed.TotalSeconds:0.0}s → " +
            $"exactly one patch {exactlyOne}, double executions {doubles}, no patch {none}; both returned Verifying {bothSawWork}; " +
            $"states {string.Join(", ", outcomes.OrderBy(o => o.Key).Select(o => $"{o.Key}={o.Value}"))}");
        Assert.True(problems.IsEmpty, string.Join("\n", problems.Take(10)));
        Assert.Equal(Deployments * TrialsPerDeployment, trials);
        Assert.Equal(0, doubles);
        Assert.Equal(trials, exactlyOne);
    }

    private static int Applied(SimulatedCluster cluster, string deployment) =>
        cluster.Requests.Count(r => r.IsMutating && r.Name == deployment && r.StatusCode is >= 200 and < 300);
}
