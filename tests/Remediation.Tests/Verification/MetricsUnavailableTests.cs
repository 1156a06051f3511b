using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Metrics;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Verification;

namespace Remediation.Tests.Verification;

/// <summary>
/// The first law: what the product cannot read is unknown, never healthy. A Prometheus that stops answering neither
/// closes a 5xx alert as stale nor lets a remediation be verified on the rollout state alone.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class MetricsUnavailableTests(AzuriteFixture storage)
{
    private static readonly string Policy = File.ReadAllText(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));

    private static Dictionary<string, string?> PointedAt(PrometheusProcess prometheus) =>
        new() { ["Remediation:Prometheus:Url"] = prometheus.BaseAddress.ToString() };

    /// <summary>An Istio 5xx alert as Prometheus' rule would fire it (destination_workload, not deployment).</summary>
    private static NormalizedAlert Istio5xx(string ns, string workload)
    {
        var labels = new Dictionary<string, string> { ["alertname"] = "IstioHigh5xxRate", ["namespace"] = ns, ["destination_workload"] = workload, ["destination_workload_namespace"] = ns, ["severity"] = "critical" };
        var (target, problem) = TargetResolver.Resolve(labels);
        Assert.Null(problem);
        return new NormalizedAlert
        {
            Source = AlertSource.Alertmanager,
            Name = "IstioHigh5xxRate",
            Status = AlertStatus.Firing,
            Fingerprint = IncidentIdentity.FingerprintOf(labels),
            StartsAt = PipelineHarness.Start,
            Labels = labels,
            Target = target,
        };
    }

    /// <summary>Starts a real Prometheus, checks the product's client reaches it, then stops it by its own process handle.</summary>
    private static async Task StopAfterFirstAnswerAsync(PipelineHarness harness, PrometheusProcess prometheus)
    {
        var mesh = harness.Services.GetRequiredService<IMeshSignals>();
        Assert.Empty(await mesh.VersionSignalsAsync("shop", ["checkout"], TimeSpan.FromMinutes(1)));
        await prometheus.StopAsync();
    }

    [Fact]
    public async Task Prometheus_stopped_mid_test_escalates_a_5xx_alert_as_metrics_unavailable()
    {
        await using var prometheus = await PrometheusProcess.StartAsync([]);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "healthy.yaml", Policy, settings: PointedAt(prometheus));
        await StopAfterFirstAnswerAsync(harness, prometheus);

        var incident = await harness.FireAsync(Istio5xx("shop", "checkout"));

        Assert.Equal(IncidentState.Escalated, incident.State);
        Assert.NotEqual(IncidentState.NoAction, incident.State);
        Assert.Equal(nameof(FailureClass.Unknown), incident.DiagnosisClass);
        Assert.StartsWith("diagnosis unknown: metrics unavailable: prometheus: connection refused; ", incident.OutcomeReason, StringComparison.Ordinal);
        Assert.DoesNotContain("looks stale", incident.OutcomeReason, StringComparison.Ordinal);
        Assert.DoesNotContain(harness.Cluster.Requests, r => r.IsMutating);
    }

    [Fact]
    public async Task Prometheus_stopped_mid_test_keeps_a_traffic_shift_from_being_verified()
    {
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] });
        await using var prometheus = await PrometheusProcess.StartAsync([]);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser, settings: PointedAt(prometheus));
        Assert.IsType<PrometheusHealthSignal>(harness.Services.GetRequiredService<IHealthSignal>());
        var original = harness.Cluster.GetObject("virtualservices", "shop", "reviews")!["spec"]!["http"]!.ToJsonString();
        await StopAfterFirstAnswerAsync(harness, prometheus);

        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Verifying, incident.State);
        var shifted = harness.Cluster.GetObject("virtualservices", "shop", "reviews")!["spec"]!["http"]!.ToJsonString();
        Assert.NotEqual(original, shifted);

        // Past the soak (1m), before the deadline (5m): the error ratio cannot be read, so not verified, still polled.
        harness.Time.Advance(TimeSpan.FromMinutes(2));
        var sweep = await harness.SweepAsync();
        Assert.Equal(0, sweep.Succeeded);
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);

        // At the deadline: escalated to a human, not Succeeded, nothing reverted, not counted as a failed remediation.
        harness.Time.Advance(TimeSpan.FromMinutes(4));
        sweep = await harness.SweepAsync();
        Assert.Equal(0, sweep.Succeeded);
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Escalated, done.State);
        Assert.StartsWith("could not be verified by the deadline: metrics unavailable: error ratio of service reviews could not be read (prometheus: connection refused)",
            done.OutcomeReason, StringComparison.Ordinal);
        Assert.Contains("a human must look", done.OutcomeReason, StringComparison.Ordinal);
        Assert.Equal(shifted, harness.Cluster.GetObject("virtualservices", "shop", "reviews")!["spec"]!["http"]!.ToJsonString());
        var ledger = await harness.Services.GetRequiredService<TargetLedger>().GetAsync(new WorkloadTarget("shop", "reviews-v2"));
        Assert.Equal(0, ledger.ConsecutiveFailures);
    }

    [Fact]
    public async Task A_traffic_shift_with_no_requests_in_the_window_is_not_verified_and_escalates_at_the_deadline()
    {
        // Found from outside: with no ratio (no requests) and no rollout to check, the shift read "verified on rollout
        // state only" and Succeeded, though nothing at all was verified.
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] });
        var health = new SettableHealthSignal(null);
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser, health);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Verifying, incident.State);
        var shifted = harness.Cluster.GetObject("virtualservices", "shop", "reviews")!["spec"]!["http"]!.ToJsonString();

        harness.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(0, (await harness.SweepAsync()).Succeeded);
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);

        harness.Time.Advance(TimeSpan.FromMinutes(4));
        await harness.SweepAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Escalated, done.State);
        Assert.Contains("no requests in the window", done.OutcomeReason, StringComparison.Ordinal);
        Assert.DoesNotContain("verified on rollout state only", done.OutcomeReason, StringComparison.Ordinal);
        Assert.Equal(shifted, harness.Cluster.GetObject("virtualservices", "shop", "reviews")!["spec"]!["http"]!.ToJsonString());
    }

    [Fact]
    public async Task Unreadable_health_signal_holds_verification_until_the_metrics_answer()
    {
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] });
        var health = new SettableHealthSignal(0.001) { Unreadable = "prometheus: timed out" };
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser, health);
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Verifying, incident.State);

        for (var i = 0; i < 3; i++)
        {
            harness.Time.Advance(TimeSpan.FromMinutes(1));
            await harness.SweepAsync();
            Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);
        }
        Assert.True(health.Reads >= 2, $"{health.Reads} reads");

        // The metrics answer again, with a healthy ratio, before the deadline: verified.
        health.Unreadable = null;
        harness.Time.Advance(TimeSpan.FromSeconds(30));
        await harness.SweepAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Succeeded, done.State);
        Assert.StartsWith("verified: error ratio of service reviews 0.10", done.OutcomeReason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_signal_that_throws_counts_as_unreadable_and_is_escalated_at_the_deadline()
    {
        var diagnoser = FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] });
        await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "v2-degraded.yaml", Policy, diagnoser, new ThrowingHealthSignal());
        var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "reviews-v2", "IstioHigh5xxErrorRate"));
        Assert.Equal(IncidentState.Verifying, incident.State);

        harness.Time.Advance(TimeSpan.FromMinutes(2));
        await harness.SweepAsync();
        Assert.Equal(IncidentState.Verifying, (await harness.Store.GetAsync(incident.IncidentId))!.State);
        harness.Time.Advance(TimeSpan.FromMinutes(4));
        await harness.SweepAsync();
        var done = (await harness.Store.GetAsync(incident.IncidentId))!;
        Assert.Equal(IncidentState.Escalated, done.State);
        Assert.Contains("metrics unavailable: error ratio of service reviews could not be read (query refused)", done.OutcomeReason, StringComparison.Ordinal);
    }

    private sealed class ThrowingHealthSignal : IHealthSignal
    {
        public Task<HealthReading> ErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default) =>
            Task.FromException<HealthReading>(new InvalidOperationException("query refused"));

        public Task<HealthReading> ServiceErrorRatioAsync(string @namespace, string service, TimeSpan window, CancellationToken cancellationToken = default) =>
            Task.FromException<HealthReading>(new InvalidOperationException("query refused"));
    }
}
