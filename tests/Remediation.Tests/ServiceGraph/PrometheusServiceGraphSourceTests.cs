using System.Net;
using Remediation.Metrics;
using Remediation.ServiceGraph;
using Remediation.Tests.Diagnosis;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.ServiceGraph;

public sealed class PrometheusServiceGraphSourceTests
{
    private static PrometheusServiceGraphSource Source(HttpClient http, Uri url) =>
        new(new PrometheusClient(http, url, PrometheusAuthenticator.None, TimeSpan.FromSeconds(5), TimeProvider.System));

    private const string Empty = """{"status":"success","data":{"resultType":"vector","result":[]}}""";

    [Fact]
    public async Task Names_in_matchers_are_rfc1123_and_dots_are_regex_escaped()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.Json(Empty));
        using var http = new HttpClient(handler);

        var reading = await Source(http, new Uri("http://prometheus.test/")).ReadAsync(new WorkloadId("shop", "api.v2"), TimeSpan.FromMinutes(5));

        Assert.NotNull(reading.Graph);
        Assert.Empty(reading.Graph.Edges);
        var first = handler.Requests[0].Query("query")!;
        Assert.Equal(
            "sum by (source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, reporter) "
            + "(rate(istio_requests_total{destination_workload_namespace=\"shop\",destination_workload=~\"api\\\\.v2\"}[5m])) or "
            + "sum by (source_workload, source_workload_namespace, destination_workload, destination_workload_namespace, reporter) "
            + "(rate(istio_requests_total{source_workload_namespace=\"shop\",source_workload=~\"api\\\\.v2\"}[5m]))", first);
        var queries = handler.Requests.Select(r => r.Query("query")!).ToList();
        Assert.Contains(queries, q => q.Contains("grpc_response_status=~\"[1-9]|1[0-6]\"", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.StartsWith("histogram_quantile(0.99, sum by (le, ", StringComparison.Ordinal));
        Assert.Contains(queries, q => q.Contains("[5m] offset 1h", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("shop", "Checkout")]
    [InlineData("shop", "checkout\"} or vector(1) #")]
    [InlineData("sh op", "checkout")]
    public async Task A_workload_that_is_not_a_kubernetes_name_is_refused_before_any_query(string ns, string name)
    {
        var handler = new RecordingHandler(_ => RecordingHandler.Json(Empty));
        using var http = new HttpClient(handler);

        await Assert.ThrowsAsync<ArgumentException>(() => Source(http, new Uri("http://prometheus.test/")).ReadAsync(new WorkloadId(ns, name), TimeSpan.FromMinutes(5)));
        Assert.Empty(handler.Requests);
    }

    [Fact]
    public async Task Names_from_the_telemetry_that_break_the_rules_are_left_out_not_queried()
    {
        const string Answer = """
            {"status":"success","data":{"resultType":"vector","result":[
              {"metric":{"source_workload":"frontend","source_workload_namespace":"shop","destination_workload":"Bad\"Name","destination_workload_namespace":"shop","reporter":"source"},"value":[1,"5"]},
              {"metric":{"source_workload":"frontend","source_workload_namespace":"shop","destination_workload":"checkout","destination_workload_namespace":"shop","reporter":"source"},"value":[1,"5"]}]}}
            """;
        var handler = new RecordingHandler(_ => RecordingHandler.Json(Answer));
        using var http = new HttpClient(handler);

        var reading = await Source(http, new Uri("http://prometheus.test/")).ReadAsync(new WorkloadId("shop", "frontend"), TimeSpan.FromMinutes(5));

        Assert.Equal(["shop/frontend -> shop/checkout"], reading.Graph!.Edges.Select(e => $"{e.Source} -> {e.Destination}"));
        Assert.DoesNotContain(handler.Requests, r => r.Query("query")!.Contains("Bad", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Unreachable_prometheus_is_unreadable_never_an_empty_healthy_graph()
    {
        using var http = new HttpClient();
        var url = new Uri($"http://127.0.0.1:{FreePort.Next()}/");

        var reading = await Source(http, url).ReadAsync(new WorkloadId("shop", "checkout"), TimeSpan.FromMinutes(5));

        Assert.Null(reading.Graph);
        Assert.Equal($"Prometheus at {url} could not be read: connection refused", reading.Unreadable);
    }

    [Fact]
    public async Task A_query_error_is_unreadable()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.Json("""{"status":"error","errorType":"execution","error":"query timed out"}""", HttpStatusCode.ServiceUnavailable));
        using var http = new HttpClient(handler);

        var reading = await Source(http, new Uri("http://prometheus.test/")).ReadAsync(new WorkloadId("shop", "checkout"), TimeSpan.FromMinutes(5));

        Assert.Null(reading.Graph);
        Assert.Contains("query timed out", reading.Unreadable, StringComparison.Ordinal);
    }
}
