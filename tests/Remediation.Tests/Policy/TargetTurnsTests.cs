using CsCheck;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Pipeline;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Policy;

/// <summary>
/// Incidents of one target are decided one at a time in an instance (<see cref="TargetTurns"/>): a burst of alerts on a
/// workload is diagnosed once and acted on once, the others refused without a cluster read; a key has one holder at a
/// time, a cancelled wait gives its place up, and nothing is remembered once no incident holds or waits.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class TargetTurnsTests(AzuriteFixture storage)
{
    private const int Burst = 6;

    [Fact]
    public async Task A_burst_on_one_workload_is_diagnosed_once_and_the_rest_refused_without_reading_it()
    {
        var diagnoser = new HeldDiagnoser(FixedDiagnoser.Of(FailureClass.CrashLoop));
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "crashloop-no-change.yaml", PipelineHarness.RestartCrashLoopsPolicy, diagnoser);
        var alerts = Enumerable.Range(0, Burst)
            .Select(i => PipelineHarness.Alert("shop", "worker", startsAt: harness.Time.GetUtcNow() + TimeSpan.FromSeconds(i), fingerprint: $"burst-{i}")).ToList();
        await harness.Services.GetRequiredService<Remediation.Ingest.AlertIngestor>().IngestAsync(alerts);
        var pipeline = harness.Services.GetRequiredService<RemediationPipeline>();
        var turns = harness.Services.GetRequiredService<TargetTurns>();

        // Every item at once, as queue messages processed side by side deliver them. The first diagnosis is held until all
        // the others wait for the workload's turn: none of them may read the cluster or pass the gate meanwhile.
        var running = alerts.Select(a => Task.Run(() => pipeline.ProcessAsync(new WorkItem(a.IncidentId)))).ToList();
        await diagnoser.Entered.WaitAsync(TimeSpan.FromSeconds(30));
        await Until(() => turns.Queued("shop/worker") == Burst || diagnoser.Calls > 1, "every other incident waits for the workload's turn");
        Assert.Equal(1, diagnoser.Calls);
        diagnoser.Release();
        await Task.WhenAll(running).WaitAsync(TimeSpan.FromSeconds(60));

        var incidents = await Task.WhenAll(alerts.Select(a => harness.Store.GetAsync(a.IncidentId)));
        Assert.Equal(1, diagnoser.Calls);
        Assert.Single(incidents, i => i!.State == IncidentState.Verifying);
        Assert.All(incidents.Where(i => i!.State != IncidentState.Verifying), i =>
        {
            Assert.Equal(IncidentState.Refused, i!.State);
            Assert.EndsWith("(not diagnosed)", i.OutcomeReason, StringComparison.Ordinal);
        });
        Assert.Equal(1, harness.Cluster.Requests.Count(r => r.IsMutating));
        Assert.Equal(0, turns.Count);
    }

    private static readonly Gen<(int Key, int Steps, bool Cancel)[]> Takers =
        Gen.Select(Gen.Int[0, 3], Gen.Int[0, 3], Gen.Int[0, 5].Select(c => c == 0)).Array[2, 24];

    [Fact]
    public async Task One_holder_per_key_cancelled_waits_leave_and_nothing_is_kept()
    {
        await Takers.SampleAsync(async takers =>
        {
            var turns = new TargetTurns();
            var inside = new int[4];
            var twoInside = 0;
            using var cancelled = new CancellationTokenSource();
            cancelled.Cancel();
            var runs = takers.Select(t => Task.Run(async () =>
            {
                IDisposable held;
                try
                {
                    held = await turns.TakeAsync("key" + t.Key, t.Cancel ? cancelled.Token : CancellationToken.None);
                }
                catch (OperationCanceledException) when (t.Cancel)
                {
                    return;
                }
                using (held)
                {
                    if (Interlocked.Increment(ref inside[t.Key]) > 1)
                    {
                        Interlocked.Exchange(ref twoInside, 1);
                    }
                    for (var s = 0; s < t.Steps; s++)
                    {
                        await Task.Yield();
                    }
                    Interlocked.Decrement(ref inside[t.Key]);
                }
            })).ToList();
            await Task.WhenAll(runs);
            Assert.Equal(0, twoInside);
            Assert.Equal(0, turns.Count);
        }, iter: 200, threads: 1);
    }

    private static async Task Until(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"timed out waiting until {what}");
            await Task.Delay(5);
        }
    }

    /// <summary>A diagnoser whose first call waits until <see cref="Release"/>; counts its calls.</summary>
    private sealed class HeldDiagnoser(IDiagnoser inner) : IDiagnoser
    {
        private readonly TaskCompletionSource _entered = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private readonly TaskCompletionSource _release = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private int _calls;

        public int Calls => Volatile.Read(ref _calls);

        public Task Entered => _entered.Task;

        public void Release() => _release.TrySetResult();

        public async Task<DiagnosisResult> DiagnoseAsync(NormalizedAlert alert, WorkloadTarget target, CancellationToken cancellationToken = default)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                _entered.TrySetResult();
                await _release.Task.WaitAsync(cancellationToken);
            }
            return await inner.DiagnoseAsync(alert, target, cancellationToken);
        }
    }
}
