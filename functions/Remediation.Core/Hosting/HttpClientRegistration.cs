using System.Net;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Http.Resilience;
using Microsoft.Extensions.Options;
using Polly;
using Polly.CircuitBreaker;
using Polly.Retry;
using Polly.Timeout;

namespace Remediation.Hosting;

/// <summary>
/// The product's outgoing HTTP clients, from <see cref="IHttpClientFactory"/>, each behind a resilience handler: an
/// attempt timeout, retries of transient failures with exponential backoff and jitter, a circuit breaker, and a total
/// timeout. The handlers retry and fail fast; they never turn a failure into an answer (an unreadable Prometheus stays
/// unreadable). Their waits are real waits (<see cref="TimeProvider.System"/>): they pace a socket, and a simulated
/// clock must not freeze one. The product's own deadlines (query timeouts, diagnosis budgets) stay on the injected clock.
/// <para>The factory's request logging is removed: a webhook URL carries its secret in the path.</para>
/// </summary>
public static class HttpClientRegistration
{
    public const string Prometheus = "remediation-prometheus";
    public const string LogAnalytics = "remediation-loganalytics";
    public const string Notifications = Remediation.Notifications.OutcomeNotifier.HttpClientName;

    public static IServiceCollection AddRemediationHttpClients(this IServiceCollection services)
    {
        if (services.Any(d => d.ServiceType == typeof(HttpClientMarker)))
        {
            return services;
        }
        services.AddSingleton<HttpClientMarker>();

        // PromQL queries are reads (GET; a POST of the same query would be as safe to repeat).
        services.AddHttpClient(Prometheus, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(PooledHandler)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddResilienceHandler("prometheus", (pipeline, context) =>
                Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<PrometheusOptions>>().Value.QueryTimeout, IsTransient));

        // KQL queries are reads sent as POST: safe to repeat. Azure.Core's own retry is off on this transport.
        services.AddHttpClient(LogAnalytics, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(PooledHandler)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddResilienceHandler("loganalytics", (pipeline, context) =>
                Configure(pipeline, context.ServiceProvider.GetRequiredService<IOptions<Metrics.LogAnalyticsOptions>>().Value.QueryTimeout, IsTransient));

        // A notification is a POST that is not safe to repeat once delivered: retried only when it was never
        // processed (no connection, 429 Too Many Requests, 503 Service Unavailable).
        services.AddHttpClient(Notifications, c => c.Timeout = Timeout.InfiniteTimeSpan)
            .ConfigurePrimaryHttpMessageHandler(PooledHandler)
            .SetHandlerLifetime(Timeout.InfiniteTimeSpan)
            .RemoveAllLoggers()
            .AddResilienceHandler("notifications", pipeline => Configure(pipeline, TimeSpan.FromSeconds(10), IsNotProcessed));
        return services;
    }

    /// <summary>Transient for a read: no answer, a timeout, 408, 429 or any 5xx.</summary>
    public static bool IsTransient(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException or TimeoutRejectedException } => true,
        { Result.StatusCode: HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests or >= HttpStatusCode.InternalServerError } => true,
        _ => false,
    };

    /// <summary>Not processed by the receiver: the connection was never made, or it said 429 or 503.</summary>
    public static bool IsNotProcessed(Outcome<HttpResponseMessage> outcome) => outcome switch
    {
        { Exception: HttpRequestException { HttpRequestError: HttpRequestError.ConnectionError or HttpRequestError.NameResolutionError } } => true,
        { Result.StatusCode: HttpStatusCode.TooManyRequests or HttpStatusCode.ServiceUnavailable } => true,
        _ => false,
    };

    private static void Configure(ResiliencePipelineBuilder<HttpResponseMessage> pipeline, TimeSpan attemptTimeout, Func<Outcome<HttpResponseMessage>, bool> transient)
    {
        pipeline.TimeProvider = TimeProvider.System;
        // Total: every attempt and wait; a backstop to the caller's own deadline (the query timeout) on the injected clock.
        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = attemptTimeout * 2 + TimeSpan.FromSeconds(1) });
        pipeline.AddRetry(new HttpRetryStrategyOptions
        {
            MaxRetryAttempts = 2,
            BackoffType = DelayBackoffType.Exponential,
            UseJitter = true,
            Delay = TimeSpan.FromMilliseconds(200),
            MaxDelay = TimeSpan.FromSeconds(2),
            ShouldHandle = args => ValueTask.FromResult(transient(args.Outcome)),
        });
        pipeline.AddCircuitBreaker(new HttpCircuitBreakerStrategyOptions
        {
            FailureRatio = 0.5,
            MinimumThroughput = 10,
            SamplingDuration = TimeSpan.FromSeconds(30),
            BreakDuration = TimeSpan.FromSeconds(15),
            ShouldHandle = args => ValueTask.FromResult(transient(args.Outcome)),
        });
        pipeline.AddTimeout(new HttpTimeoutStrategyOptions { Timeout = attemptTimeout });
    }

    /// <summary>One pooled handler per client for the process; connections are recycled so DNS changes are seen.</summary>
    private static SocketsHttpHandler PooledHandler() => new()
    {
        PooledConnectionLifetime = TimeSpan.FromMinutes(5),
        ConnectTimeout = TimeSpan.FromSeconds(5),
    };

    private sealed class HttpClientMarker;
}
