using System.Net;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Remediation.Hosting;
using Remediation.Metrics;
using Remediation.Notifications;
using Remediation.Storage;

namespace Remediation.Tests.Diagnosis;

/// <summary>
/// The factory clients' resilience handlers: transient failures are retried, answers are not, and what stays a failure
/// after the retries surfaces as a failure (never as an empty, healthy-looking result).
/// </summary>
public sealed class ResilientHttpClientTests
{
    private static ServiceProvider Build(RecordingHandler handler, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Remediation:Kubernetes:ServerUrl"] = "http://127.0.0.1:1",
            ["Remediation:Prometheus:Url"] = "http://prometheus.test:9090",
        };
        foreach (var (key, value) in extra ?? [])
        {
            settings[key] = value;
        }
        var services = new ServiceCollection().AddRemediationCore(new ConfigurationBuilder().AddInMemoryCollection(settings).Build());
        // The network is the only part replaced: the resilience handler stays in front of it.
        services.AddHttpClient(HttpClientRegistration.Prometheus).ConfigurePrimaryHttpMessageHandler(() => handler);
        services.AddHttpClient(HttpClientRegistration.Notifications).ConfigurePrimaryHttpMessageHandler(() => handler);
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task Prometheus_503s_are_retried_and_the_answer_returned()
    {
        var calls = 0;
        var handler = new RecordingHandler(_ => ++calls < 3
            ? new HttpResponseMessage(HttpStatusCode.ServiceUnavailable)
            : RecordingHandler.File("prometheus/vector.json"));
        await using var sp = Build(handler);
        var result = await sp.GetRequiredService<PrometheusClient>().QueryAsync("up");
        Assert.Equal(PromResultType.Vector, result.Type);
        Assert.NotEmpty(result.Series);
        Assert.Equal(3, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("up", r.Query("query")));
    }

    [Fact]
    public async Task Prometheus_bad_data_is_an_answer_and_not_retried()
    {
        var handler = new RecordingHandler(_ => RecordingHandler.File("prometheus/error-bad-data.json", HttpStatusCode.BadRequest));
        await using var sp = Build(handler);
        var ex = await Assert.ThrowsAsync<PrometheusQueryException>(() => sp.GetRequiredService<PrometheusClient>().QueryAsync("up{"));
        Assert.Equal("bad_data", ex.ErrorType);
        Assert.Single(handler.Requests);
    }

    [Fact]
    public async Task Prometheus_failing_past_the_retries_stays_a_failure()
    {
        var handler = new RecordingHandler(_ => new HttpResponseMessage(HttpStatusCode.BadGateway) { Content = new StringContent("<html>502</html>") });
        await using var sp = Build(handler);
        var client = sp.GetRequiredService<PrometheusClient>();
        var ex = await Assert.ThrowsAsync<PrometheusQueryException>(() => client.QueryAsync("up"));
        Assert.Equal(HttpStatusCode.BadGateway, ex.StatusCode);
        Assert.Equal(3, handler.Requests.Count);
    }

    [Fact]
    public async Task Prometheus_failing_many_times_opens_the_breaker_and_still_reads_as_a_failure()
    {
        var handler = new RecordingHandler(_ => throw new HttpRequestException(HttpRequestError.ConnectionError, "connection refused"));
        await using var sp = Build(handler);
        var client = sp.GetRequiredService<PrometheusClient>();
        for (var i = 0; i < 6; i++)
        {
            await Assert.ThrowsAsync<HttpRequestException>(() => client.QueryAsync("up"));
        }
        var seen = handler.Requests.Count;
        var paused = await Assert.ThrowsAsync<HttpRequestException>(() => client.QueryAsync("up"));
        Assert.Contains("circuit open", paused.Message, StringComparison.Ordinal);
        Assert.Equal(HttpRequestError.ConnectionError, paused.HttpRequestError);
        Assert.Equal(seen, handler.Requests.Count);
    }

    [Fact]
    public async Task A_webhook_notification_is_retried_only_when_it_was_not_processed()
    {
        var calls = 0;
        var handler = new RecordingHandler(_ => ++calls switch
        {
            1 => new HttpResponseMessage(HttpStatusCode.TooManyRequests),
            _ => new HttpResponseMessage(HttpStatusCode.InternalServerError),
        });
        await using var sp = Build(handler, new() { ["Remediation:Notifications:WebhookUrl"] = "http://hooks.test/teams" });
        var notifier = new OutcomeNotifier(sp.GetRequiredService<NotificationOptions>(), sp.GetRequiredService<IHttpClientFactory>(), NullLogger<OutcomeNotifier>.Instance);
        await notifier.NotifyAsync(new IncidentRecord { PartitionKey = "i-1", State = IncidentState.Succeeded, AlertName = "KubePodCrashLooping" });
        // 429 was not processed: retried; the 500 may have been: not repeated (no duplicate message in the channel).
        Assert.Equal(2, handler.Requests.Count);
        Assert.All(handler.Requests, r => Assert.Equal("POST", r.Method));
    }
}
