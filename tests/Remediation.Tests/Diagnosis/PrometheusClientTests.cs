using System.Net;
using Azure.Core;
using Microsoft.Extensions.Time.Testing;
using Remediation.Hosting;
using Remediation.Metrics;

namespace Remediation.Tests.Diagnosis;

public sealed class PrometheusClientTests
{
    private static readonly Uri Base = new("http://prometheus.test:9090/");

    private static PrometheusClient Client(RecordingHandler handler, TimeProvider? time = null, PrometheusAuthenticator? auth = null, TimeSpan? timeout = null) =>
        new(new HttpClient(handler), Base, auth ?? PrometheusAuthenticator.None, timeout ?? TimeSpan.FromSeconds(5), time ?? TimeProvider.System);

    [Fact]
    public async Task Instant_query_parses_a_vector_and_sends_query_and_timeout()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/vector.json"));
        var result = await Client(handler).QueryAsync("sum(rate(istio_requests_total[5m])) by (destination_workload)", DateTimeOffset.FromUnixTimeSeconds(1717322400));

        Assert.Equal(PromResultType.Vector, result.Type);
        Assert.Equal(2, result.Series.Count);
        Assert.Equal("reviews-v2", result.Series[1].Label("destination_workload"));
        Assert.Equal(10.1, result.Series[1].Value);
        Assert.Equal(DateTimeOffset.FromUnixTimeMilliseconds(1717322400123), result.Series[0].Samples[0].Timestamp);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("GET", request.Method);
        Assert.Equal("/api/v1/query", request.Uri.AbsolutePath);
        Assert.Equal("sum(rate(istio_requests_total[5m])) by (destination_workload)", request.Query("query"));
        Assert.Equal("1717322400", request.Query("time"));
        Assert.Equal("5s", request.Query("timeout"));
        Assert.Null(request.Authorization);
    }

    [Fact]
    public async Task Range_query_parses_a_matrix_with_NaN_and_Inf()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/matrix.json"));
        var start = DateTimeOffset.FromUnixTimeSeconds(1435781430);
        var result = await Client(handler).QueryRangeAsync("up", start, start.AddSeconds(30), TimeSpan.FromSeconds(15));

        Assert.Equal(PromResultType.Matrix, result.Type);
        Assert.Equal(3, result.Series[0].Samples.Count);
        Assert.True(double.IsNaN(result.Series[0].Samples[2].Value));
        Assert.Equal(double.PositiveInfinity, result.Series[1].Samples[1].Value);
        var request = Assert.Single(handler.Requests);
        Assert.Equal("/api/v1/query_range", request.Uri.AbsolutePath);
        Assert.Equal("1435781430", request.Query("start"));
        Assert.Equal("1435781460", request.Query("end"));
        Assert.Equal("15s", request.Query("step"));
    }

    [Fact]
    public async Task Scalar_result_and_warnings()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/scalar.json"));
        var result = await Client(handler).QueryAsync("scalar(42.5)");
        Assert.Equal(PromResultType.Scalar, result.Type);
        Assert.Equal(42.5, result.Scalar!.Value);
        Assert.Single(result.Warnings);
    }

    [Fact]
    public async Task Error_answer_becomes_an_exception_with_the_message()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/error-bad-data.json", HttpStatusCode.BadRequest));
        var ex = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client(handler).QueryAsync("sum(rate(x{a=}[5m]))"));
        Assert.Equal("bad_data", ex.ErrorType);
        Assert.Equal(HttpStatusCode.BadRequest, ex.StatusCode);
        Assert.Contains("parse error: unexpected \"}\" in label matching", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Non_json_failure_becomes_an_exception()
    {
        var handler = new RecordingHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>502 Bad Gateway</html>") });
        var ex = await Assert.ThrowsAsync<PrometheusQueryException>(() => Client(handler).QueryAsync("up"));
        Assert.Equal("http", ex.ErrorType);
        Assert.Contains("502", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Query_times_out_on_the_time_provider()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UnixEpoch.AddDays(20000));
        var arrived = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var handler = new RecordingHandler(async (_, ct) =>
        {
            arrived.TrySetResult();
            await Task.Delay(Timeout.Infinite, ct);
            return RecordingHandler.Json("{}");
        });
        var query = Client(handler, time, timeout: TimeSpan.FromSeconds(5)).QueryAsync("up");
        await arrived.Task.WaitAsync(TimeSpan.FromSeconds(10));
        time.Advance(TimeSpan.FromSeconds(4));
        Assert.False(query.IsCompleted);
        time.Advance(TimeSpan.FromSeconds(2));
        var ex = await Assert.ThrowsAsync<TimeoutException>(() => query.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.Contains("timed out after 5s", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Caller_cancellation_is_not_reported_as_a_timeout()
    {
        var handler = new RecordingHandler(async (_, ct) =>
        {
            await Task.Delay(Timeout.Infinite, ct);
            return RecordingHandler.Json("{}");
        });
        using var cts = new CancellationTokenSource(TimeSpan.FromMilliseconds(50));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Client(handler).QueryAsync("up", cancellationToken: cts.Token));
    }

    [Theory]
    [InlineData("basic", "Basic dXNlcjpwYXNz")]
    [InlineData("bearer", "Bearer s3cret")]
    public async Task Basic_and_bearer_auth(string kind, string expected)
    {
        var options = new PrometheusOptions { Url = Base, Auth = kind, Username = "user", Password = "pass", BearerToken = "s3cret" };
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/empty-vector.json"));
        await new PrometheusClient(new HttpClient(handler), options, TimeProvider.System).QueryAsync("up");
        Assert.Equal(expected, Assert.Single(handler.Requests).Authorization);
    }

    [Fact]
    public async Task Azure_token_is_requested_for_the_managed_Prometheus_scope_and_cached_until_near_expiry()
    {
        var time = new FakeTimeProvider(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero));
        var credential = new CountingCredential(time, TimeSpan.FromHours(1));
        var options = new PrometheusOptions { Url = new Uri("https://workspace.eastus.prometheus.monitor.azure.com"), Auth = "azure" };
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/empty-vector.json"));
        var client = new PrometheusClient(new HttpClient(handler), options, time, credential);

        await client.QueryAsync("up");
        time.Advance(TimeSpan.FromMinutes(50));
        await client.QueryAsync("up");
        Assert.Equal(1, credential.Calls);
        time.Advance(TimeSpan.FromMinutes(6)); // within 5 minutes of expiry
        await client.QueryAsync("up");

        Assert.Equal(2, credential.Calls);
        Assert.Equal(["https://prometheus.monitor.azure.com/.default"], credential.Scopes);
        Assert.Equal(["Bearer token-1", "Bearer token-1", "Bearer token-2"], handler.Requests.Select(r => r.Authorization));
        Assert.Equal("https://workspace.eastus.prometheus.monitor.azure.com/api/v1/query", handler.Requests[0].Uri.GetLeftPart(UriPartial.Path));
    }

    [Fact]
    public void Unknown_auth_kind_is_refused()
    {
        Assert.Throws<InvalidOperationException>(() => PrometheusAuthenticator.For(new PrometheusOptions { Auth = "digest" }, TimeProvider.System));
    }

    [Fact]
    public async Task Health_signal_reads_the_workload_5xx_ratio()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.Json("""{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1717322400,"0.3"]}]}}"""));
        var signal = new PrometheusHealthSignal(new IstioSignals(Client(handler)));
        var reading = await signal.ErrorRatioAsync("shop", "reviews-v2", TimeSpan.FromMinutes(1));
        Assert.Equal(0.3, reading.Ratio);
        Assert.Null(reading.Unreadable);
        var query = Assert.Single(handler.Requests).Query("query")!;
        Assert.Contains("destination_workload=\"reviews-v2\"", query, StringComparison.Ordinal);
        Assert.Contains("destination_workload_namespace=\"shop\"", query, StringComparison.Ordinal);
        Assert.Contains("response_code=~\"5..\"", query, StringComparison.Ordinal);
        Assert.Contains("[1m]", query, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_signal_has_no_ratio_without_traffic()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/empty-vector.json"));
        var signal = new PrometheusHealthSignal(new IstioSignals(Client(handler)));
        var reading = await signal.ErrorRatioAsync("shop", "idle", TimeSpan.FromMinutes(1));
        Assert.Null(reading.Ratio);
        Assert.Null(reading.Unreadable);
        Assert.Equal(Remediation.Verification.HealthReading.NoTraffic, reading);
    }

    [Fact]
    public async Task Health_signal_is_unreadable_not_traffic_free_when_Prometheus_fails()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/error-bad-data.json", System.Net.HttpStatusCode.BadRequest));
        var signal = new PrometheusHealthSignal(new IstioSignals(Client(handler)));
        var workload = await signal.ErrorRatioAsync("shop", "reviews-v2", TimeSpan.FromMinutes(1));
        var service = await signal.ServiceErrorRatioAsync("shop", "reviews", TimeSpan.FromMinutes(1));
        foreach (var reading in new[] { workload, service })
        {
            Assert.Null(reading.Ratio);
            Assert.StartsWith("prometheus: ", reading.Unreadable, StringComparison.Ordinal);
            Assert.Contains("bad_data", reading.Unreadable, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Istio_version_signals_combine_rate_errors_and_p99()
    {
        var handler = new RecordingHandler(r => RecordingHandler.File(ReviewsPayload(r)));
        var signals = await new IstioSignals(Client(handler)).VersionSignalsAsync("shop", ["reviews", "reviews-v2"], TimeSpan.FromMinutes(5));

        Assert.Equal(2, signals.Count);
        var v2 = Assert.Single(signals, s => s.Version == "v2");
        Assert.Equal("reviews-v2", v2.Workload);
        Assert.Equal(0.3, v2.ErrorRatio, 6);
        Assert.Equal(900, v2.P99Ms);
        Assert.Equal(0.001, signals.Single(s => s.Version == "v1").ErrorRatio, 6);
        var queries = handler.Requests.Select(r => r.Query("query")!).ToList();
        Assert.Contains("sum(rate(istio_requests_total{reporter=\"destination\",destination_workload_namespace=\"shop\",destination_service_name=~\"reviews|reviews-v2\"}[5m])) by (destination_workload, destination_version)", queries);
        Assert.Contains(queries, q => q.StartsWith("histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{", StringComparison.Ordinal) && q.EndsWith("by (le, destination_workload, destination_version))", StringComparison.Ordinal));
    }

    internal static string ReviewsPayload(RecordedHttpRequest request)
    {
        var q = request.Query("query") ?? "";
        return q.Contains("histogram_quantile", StringComparison.Ordinal) ? "prometheus/reviews-p99.json"
            : q.Contains("5..", StringComparison.Ordinal) ? "prometheus/reviews-errors.json"
            : "prometheus/reviews-rate.json";
    }

    private sealed class CountingCredential(TimeProvider time, TimeSpan lifetime) : TokenCredential
    {
        public int Calls;
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            GetTokenAsync(requestContext, cancellationToken).AsTask().GetAwaiter().GetResult();

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            var n = Interlocked.Increment(ref Calls);
            foreach (var scope in requestContext.Scopes.Where(s => !Scopes.Contains(s)))
            {
                Scopes.Add(scope);
            }
            return ValueTask.FromResult(new AccessToken($"token-{n}", time.GetUtcNow() + lifetime));
        }
    }
}
