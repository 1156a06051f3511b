using Remediation.Diagnosis;
using Remediation.Metrics;

namespace Remediation.Tests.Diagnosis;

/// <summary>
/// A rate Prometheus answers as NaN or Inf is unreadable, never 0: found from outside, a NaN baseline read as "baseline
/// 0 %" made an innocent rollout the culprit, and it was rolled back.
/// </summary>
public sealed class NonFiniteMetricsTests
{
    private static readonly Uri PrometheusUrl = new("http://prometheus.test:9090/");

    private static RecordingHandler Answering(Func<string, string> value) => new(r =>
        RecordingHandler.Json($$$"""{"status":"success","data":{"resultType":"vector","result":[{"metric":{"destination_workload":"api","destination_version":"v1"},"value":[1717322400,"{{{value(r.Query("query")!)}}}"]}]}}"""));

    private static IstioSignals Istio(RecordingHandler handler) =>
        new(new PrometheusClient(new HttpClient(handler), PrometheusUrl, PrometheusAuthenticator.None, TimeSpan.FromSeconds(5), TimeProvider.System));

    [Theory]
    [InlineData("NaN", false)]
    [InlineData("+Inf", false)]
    [InlineData("NaN", true)]
    [InlineData("-Inf", true)]
    public async Task A_rate_that_is_not_a_number_is_unreadable(string value, bool inTheRequestRate)
    {
        using var handler = Answering(q => q.Contains("histogram_quantile", StringComparison.Ordinal) ? "120"
            : q.Contains("5..", StringComparison.Ordinal) ? (inTheRequestRate ? "1" : value) : (inTheRequestRate ? value : "10"));
        var ex = await Assert.ThrowsAsync<PrometheusQueryException>(() => Istio(handler).VersionSignalsAsync("shop", ["api"], TimeSpan.FromMinutes(5)));
        Assert.Contains("not a number", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_p99_of_nan_is_no_latency_and_the_rates_are_read()
    {
        using var handler = Answering(q => q.Contains("histogram_quantile", StringComparison.Ordinal) ? "NaN" : q.Contains("5..", StringComparison.Ordinal) ? "1" : "10");
        var signals = Assert.Single(await Istio(handler).VersionSignalsAsync("shop", ["api"], TimeSpan.FromMinutes(5)));
        Assert.Equal((10d, 0.1, (double?)null), (signals.RequestsPerSecond, signals.ErrorRatio, signals.P99Ms));
    }

    [Fact]
    public async Task A_nan_baseline_makes_the_diagnosis_unknown_not_a_bad_rollout()
    {
        await using var cluster = await ScenarioDiagnosisTests.StartAsync("saturation.yaml");
        using var client = (k8s.Kubernetes)ScenarioDiagnosisTests.Client(cluster);
        using var handler = Answering(q => q.Contains("offset", StringComparison.Ordinal) && q.Contains("5..", StringComparison.Ordinal) ? "NaN"
            : q.Contains("histogram_quantile", StringComparison.Ordinal) ? "150" : q.Contains("5..", StringComparison.Ordinal) ? "160" : "400");
        var result = await new KubernetesDiagnoser(new Remediation.Kubernetes.KubernetesClusterReader(client, TimeProvider.System), TimeProvider.System, Istio(handler))
            .DiagnoseAsync(ScenarioDiagnosisTests.Alert("shop", "api", "IstioHigh5xxErrorRate"), new("shop", "api"));

        Assert.Equal(FailureClass.Unknown, result.Class);
        Assert.Contains(result.Unavailable, u => u.Contains("not a number", StringComparison.Ordinal));
    }
}
