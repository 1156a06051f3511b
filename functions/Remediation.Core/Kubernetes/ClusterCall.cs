using System.Net;
using k8s.Autorest;
using Remediation.Storage;

namespace Remediation.Kubernetes;

/// <summary>Runs a Kubernetes API call with a bounded retry on transient failures (429, 5xx, connection, timeout).</summary>
public static class ClusterCall
{
    private static readonly TimeSpan[] Backoff = [TimeSpan.FromMilliseconds(100), TimeSpan.FromMilliseconds(400), TimeSpan.FromSeconds(1)];

    public static bool IsTransient(Exception ex) => ex switch
    {
        HttpOperationException hoe => hoe.Response.StatusCode is HttpStatusCode.TooManyRequests or HttpStatusCode.RequestTimeout or >= HttpStatusCode.InternalServerError,
        HttpRequestException or TimeoutException or IOException => true,
        TaskCanceledException tce => tce.InnerException is TimeoutException,
        _ => false,
    };

    public static bool IsStatus(Exception ex, HttpStatusCode status) =>
        ex is HttpOperationException hoe && hoe.Response.StatusCode == status;

    /// <summary>Runs a read (or a mutation guarded by a resourceVersion precondition, which is safe to repeat).</summary>
    public static async Task<T> RunAsync<T>(Func<CancellationToken, Task<T>> call, TimeProvider timeProvider, CancellationToken cancellationToken)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return await call(cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (IsTransient(ex) && !cancellationToken.IsCancellationRequested)
            {
                if (attempt >= Backoff.Length)
                {
                    throw new TransientDependencyException("kubernetes", $"Kubernetes API unavailable: {Describe(ex)}", ex);
                }
                await Task.Delay(Backoff[attempt], timeProvider, cancellationToken).ConfigureAwait(false);
            }
        }
    }

    public static string Describe(Exception ex) => ex switch
    {
        HttpOperationException hoe => $"{(int)hoe.Response.StatusCode} {hoe.Response.ReasonPhrase}: {Truncate(hoe.Response.Content)}",
        _ => ex.Message,
    };

    private static string Truncate(string? s) => s is null ? "" : s.Length > 300 ? s[..300] : s;
}
