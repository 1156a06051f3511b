using System.Net;
using System.Runtime.CompilerServices;
using k8s.Autorest;
using Polly;
using Polly.Retry;

namespace Remediation.Cluster;

/// <summary>
/// Runs a Kubernetes API call through a Polly pipeline: up to <see cref="MaxRetries"/> retries of transient failures
/// (429, 408, 5xx, connection failures, timeouts) with exponential backoff and jitter, waiting on the given
/// <see cref="TimeProvider"/> and giving up as soon as the caller's token is cancelled. 404, 409 and 422 are answers,
/// never retried. When the retries are spent the failure is a <see cref="TransientDependencyException"/> (a 503 upstream).
/// </summary>
public static class ClusterCall
{
    public const int MaxRetries = 3;
    public static readonly TimeSpan FirstDelay = TimeSpan.FromMilliseconds(200);

    private static readonly ConditionalWeakTable<TimeProvider, ResiliencePipeline> Pipelines = [];

    public static bool IsTransient(Exception ex) => ex switch
    {
        HttpOperationException hoe => hoe.Response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError,
        HttpRequestException or TimeoutException or IOException => true,
        TaskCanceledException tce => tce.InnerException is TimeoutException,
        _ => false,
    };

    public static bool IsStatus(Exception ex, HttpStatusCode status) =>
        ex is HttpOperationException hoe && hoe.Response.StatusCode == status;

    /// <summary>The retry pipeline waiting on <paramref name="timeProvider"/> (one per clock, built once).</summary>
    public static ResiliencePipeline PipelineFor(TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(timeProvider);
        return Pipelines.GetValue(timeProvider, static clock => new ResiliencePipelineBuilder { TimeProvider = clock }
            .AddRetry(new RetryStrategyOptions
            {
                MaxRetryAttempts = MaxRetries,
                BackoffType = DelayBackoffType.Exponential,
                UseJitter = true,
                Delay = FirstDelay,
                MaxDelay = TimeSpan.FromSeconds(2),
                ShouldHandle = new PredicateBuilder().Handle<Exception>(IsTransient),
            })
            .Build());
    }

    /// <summary>Runs a read (or a mutation guarded by a resourceVersion precondition, which is safe to repeat).</summary>
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(call);
        try
        {
            return await PipelineFor(timeProvider).ExecuteAsync(async token => await call(token).ConfigureAwait(false), cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
        {
            throw new TransientDependencyException("kubernetes", $"Kubernetes API unavailable: {Describe(ex)}", ex);
        }
    }

    public static string Describe(Exception ex) => ex switch
    {
        HttpOperationException hoe => $"{(int)hoe.Response.StatusCode} {hoe.Response.ReasonPhrase}: {Truncate(hoe.Response.Content)}",
        _ => ex.Message,
    };

    private static string Truncate(string? s) => s is null ? "" : s.Length > 300 ? s[..300] : s;
}
