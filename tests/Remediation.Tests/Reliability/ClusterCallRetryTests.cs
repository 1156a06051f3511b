using System.Net;
using k8s.Autorest;
using Microsoft.Extensions.Time.Testing;
using Remediation.Cluster;
using Remediation.Storage;

namespace Remediation.Tests.Reliability;

/// <summary>The Kubernetes call retry: transient failures retried with backoff on the TimeProvider, answers never.</summary>
public sealed class ClusterCallRetryTests
{
    private static HttpOperationException Status(HttpStatusCode status) =>
        new($"Operation returned an invalid status code '{status}'")
        {
            Response = new HttpResponseMessageWrapper(new HttpResponseMessage(status), "{\"kind\":\"Status\"}"),
        };

    /// <summary>Advances the fake clock until the call settles (its waits are on that clock); bounded in real time.</summary>
    private static async Task<T> SettleAsync<T>(FakeTimeProvider time, Task<T> call)
    {
        using var guard = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!call.IsCompleted)
        {
            guard.Token.ThrowIfCancellationRequested();
            time.Advance(TimeSpan.FromMilliseconds(50));
            await Task.Delay(1, guard.Token);
        }
        return await call;
    }

    [Theory]
    [InlineData(HttpStatusCode.ServiceUnavailable)]
    [InlineData(HttpStatusCode.TooManyRequests)]
    [InlineData(HttpStatusCode.InternalServerError)]
    public async Task A_transient_status_is_retried_until_it_succeeds(HttpStatusCode status)
    {
        var time = new FakeTimeProvider();
        var attempts = 0;
        var call = ClusterCall.RunAsync(_ => ++attempts < 3 ? throw Status(status) : Task.FromResult("ok"), time, CancellationToken.None);
        Assert.Equal("ok", await SettleAsync(time, call));
        Assert.Equal(3, attempts);
    }

    [Fact]
    public async Task A_connection_failure_is_retried_once_the_clock_passes_the_backoff()
    {
        var time = new FakeTimeProvider();
        var attempts = 0;
        var call = ClusterCall.RunAsync(_ => ++attempts < 2 ? throw new HttpRequestException("connection reset") : Task.FromResult(1), time, CancellationToken.None);
        Assert.Equal(1, attempts);
        Assert.Equal(1, await SettleAsync(time, call));
        Assert.Equal(2, attempts);
    }

    [Theory]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.UnprocessableEntity)]
    [InlineData(HttpStatusCode.NotFound)]
    [InlineData(HttpStatusCode.Forbidden)]
    public async Task An_answer_is_never_retried(HttpStatusCode status)
    {
        var attempts = 0;
        var ex = await Assert.ThrowsAsync<HttpOperationException>(() =>
            ClusterCall.RunAsync<int>(_ => { attempts++; throw Status(status); }, new FakeTimeProvider(), CancellationToken.None));
        Assert.Equal(status, ex.Response.StatusCode);
        Assert.Equal(1, attempts);
    }

    [Fact]
    public async Task Spent_retries_become_a_transient_dependency_failure()
    {
        var time = new FakeTimeProvider();
        var attempts = 0;
        var call = ClusterCall.RunAsync<int>(_ => { attempts++; throw Status(HttpStatusCode.ServiceUnavailable); }, time, CancellationToken.None);
        var ex = await Assert.ThrowsAsync<TransientDependencyException>(() => SettleAsync(time, call));
        Assert.Equal(ClusterCall.MaxRetries + 1, attempts);
        Assert.StartsWith("Kubernetes API unavailable: 503", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Cancellation_stops_the_retries()
    {
        var time = new FakeTimeProvider();
        using var cancel = new CancellationTokenSource();
        var attempts = 0;
        var call = ClusterCall.RunAsync<int>(_ => { attempts++; throw new HttpRequestException("connection refused"); }, time, cancel.Token);
        Assert.Equal(1, attempts);
        await cancel.CancelAsync();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => call);
        Assert.Equal(1, attempts);
    }
}
