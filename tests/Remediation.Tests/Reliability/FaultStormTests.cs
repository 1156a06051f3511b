using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Reliability;

/// <summary>
/// Faults: the simulator fails 30 % of Kubernetes calls (503, 429, slow 503, dropped connections) while alerts
/// arrive, and Azurite is stopped mid-storm and restarted. Senders retry on 503 honouring Retry-After, like
/// Alertmanager. Every incident ends in a recorded terminal state; none is lost, none acted on twice.
/// </summary>
public sealed class FaultStormTests(ITestOutputHelper output)
{
    public const int Incidents = 30;

    private const string Policy = """
        allow:
          namespaces: [shop]
        limits:
          cooldown: 0s
          maxConcurrent: 1000
          verifySoak: 1s
          verifyDeadline: 15s
        rules:
          - name: roll-back-bad-rollouts
            when:
              classes: [BadRollout]
            action: rollback
          - name: restart-crash-loops
            when:
              classes: [CrashLoop]
            action: restart
        """;

    private static async Task StopGracefullyAsync(AzuriteProcess azurite)
    {
        var ss = System.Diagnostics.Process.Start(new ProcessStartInfo("ss", $"-ltnpH sport = :{azurite.TablePort}") { RedirectStandardOutput = true })!;
        var text = await ss.StandardOutput.ReadToEndAsync();
        await ss.WaitForExitAsync();
        var match = System.Text.RegularExpressions.Regex.Match(text, @"pid=(\d+)");
        if (match.Success)
        {
            using var node = Process.GetProcessById(int.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture));
            using var term = Process.Start("kill", ["-TERM", node.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
            await term.WaitForExitAsync();
            using var wait = new CancellationTokenSource(TimeSpan.FromSeconds(3));
            try
            {
                await node.WaitForExitAsync(wait.Token);
            }
            catch (OperationCanceledException)
            {
                // Azurite has saved and stopped listening but waits for keep-alive connections: the kill below ends it.
                Console.WriteLine("RELIABILITY: azurite still draining connections 3 s after SIGTERM; killing it");
            }
        }
        await azurite.StopAsync();
    }

    [Fact]
    public async Task Thirty_percent_faults_and_a_storage_outage_lose_nothing_and_duplicate_nothing()
    {
        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(ReliabilitySupport.WriteScenario(Incidents, mixed: true));
        await cluster.ReconcileAsync();
        // First matching rule wins; conditional probabilities so that 30 % of all calls are faulted.
        cluster.Faults.Add(new FaultRule { Probability = 0.10, StatusCode = 503 });
        cluster.Faults.Add(new FaultRule { Probability = 0.10 / 0.90, StatusCode = 429 });
        cluster.Faults.Add(new FaultRule { Probability = 0.05 / 0.80, StatusCode = 503, Latency = TimeSpan.FromMilliseconds(700) });
        cluster.Faults.Add(new FaultRule { Probability = 0.05 / 0.75, DropConnection = true, StatusCode = null });
        await using var host = await HostHarness.StartAsync(azurite.ConnectionString, cluster.BaseAddress, Policy, settings: new Dictionary<string, string?>
        {
            ["Remediation:ActionLease"] = "00:00:05",
            ["Remediation:RequeueAfter"] = "00:00:02",
            ["Remediation:Host:VisibilityTimeout"] = "00:00:05",
            ["Remediation:Host:SweepInterval"] = "00:00:00.500",
        });
        var sender = new RetryingSender(host.Client);
        var accepted = new ConcurrentDictionary<string, HttpStatusCode>();
        var clock = Stopwatch.StartNew();

        var senders = Enumerable.Range(0, Incidents).Select(async i =>
        {
            await Task.Delay(TimeSpan.FromMilliseconds(150 * i));
            var deployment = ReliabilitySupport.Deployment(i);
            var status = await sender.SendAsync("api/alerts/alertmanager", ReliabilitySupport.AlertmanagerBody("shop", deployment, "storm-" + i));
            accepted[deployment] = status;
        }).ToList();
        await Task.Delay(1500);
        // Azurite keeps tables in memory and saves them on a graceful stop: SIGTERM first, or a kill would lose
        // the last seconds of writes (an Azurite artefact, not an outage Azure Storage has).
        await StopGracefullyAsync(azurite);
        var outageStart = clock.Elapsed;
        await Task.Delay(3000);
        await azurite.StartAsync();
        var outage = clock.Elapsed - outageStart;
        await Task.WhenAll(senders);

        var ids = Enumerable.Range(0, Incidents)
            .Select(i => Remediation.Alerts.IncidentIdentity.For(Remediation.Alerts.AlertSource.Alertmanager, "storm-" + i, ReliabilitySupport.StartsAt))
            .ToList();
        var states = new Dictionary<string, IncidentRecord?>();
        var deadline = Stopwatch.StartNew();
        while (deadline.Elapsed < TimeSpan.FromSeconds(120))
        {
            foreach (var id in ids)
            {
                try
                {
                    states[id] = await host.Store.GetAsync(id);
                }
                catch (TransientDependencyException ex)
                {
                    output.WriteLine($"read of {id} failed: {ex.Message}");
                }
            }
            if (states.Count == ids.Count && states.Values.All(s => s is not null && ReliabilitySupport.IsSettled(s.State)))
            {
                break;
            }
            await Task.Delay(500);
        }
        if (states.Count == ids.Count && states.Values.All(s => s is not null && ReliabilitySupport.IsSettled(s.State)))
        {
            // Settled; now also no work left (no straggling or redelivered work item) before counting.
            await Quiescence.WaitForNoPendingWorkAsync(host.Queue.Queue, () => Quiescence.LoadAsync(host.Store, ids), TimeSpan.FromSeconds(60));
        }

        var applied = ReliabilitySupport.AppliedMutations(cluster);
        var duplicated = 0;
        var missingRows = 0;
        for (var i = 0; i < Incidents; i++)
        {
            var rows = await ReliabilitySupport.RowsAsync(host.Store.Table, ids[i]);
            if (rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.Intent) > 1 || rows.Count(r => IncidentRowKeys.KindOf(r.RowKey) == IncidentStepRecord.OutcomeKey) != 1)
            {
                missingRows++;
            }
            // Rollback and restart are one patch each: a second applied mutation on the deployment is a duplicate action.
            if (applied.GetValueOrDefault(ReliabilitySupport.Deployment(i)) > 1)
            {
                duplicated++;
            }
        }
        var lost = states.Values.Count(s => s is null) + (ids.Count - states.Count);
        var unsettled = states.Values.Count(s => s is not null && !ReliabilitySupport.IsSettled(s.State));
        var faulted = cluster.Requests.Count(r => r.StatusCode is 503 or 429 or 0);
        var calls = cluster.Requests.Count;
        ReliabilitySupport.Report(output,
            $"faults: {Incidents} incidents, {calls} Kubernetes calls with {faulted} faults injected ({100.0 * faulted / Math.Max(1, calls):0}%), storage down {outage.TotalSeconds:0.0}s; " +
            $"sender attempts {sender.Sent}, 503 seen {sender.Unavailable}, connection errors {sender.ConnectionErrors}, other 5xx {sender.Other5xx}, finally accepted {accepted.Values.Count(s => s == HttpStatusCode.Accepted)}; " +
            $"states {string.Join(", ", states.Values.Where(s => s is not null).GroupBy(s => s!.State).OrderBy(g => g.Key).Select(g => $"{g.Key}={g.Count()}"))}; " +
            $"lost {lost}, unsettled {unsettled}, duplicated actions {duplicated}, applied mutations {applied.Values.Sum()}, step-row anomalies {missingRows}; {clock.Elapsed.TotalSeconds:0}s");
        Assert.All(accepted.Values, s => Assert.Equal(HttpStatusCode.Accepted, s));
        Assert.Equal(Incidents, accepted.Count);
        Assert.True(sender.Unavailable > 0, "no sender saw the storage outage");
        Assert.Equal(0, sender.Other5xx);
        Assert.Equal(0, lost);
        Assert.Equal(0, unsettled);
        Assert.Equal(0, duplicated);
        Assert.Equal(0, missingRows);
    }
}
