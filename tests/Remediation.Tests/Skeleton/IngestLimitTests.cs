using System.IO.Pipelines;
using System.Net;
using System.Text;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Skeleton;

/// <summary>
/// Overload: beyond Remediation:MaxConcurrentDeliveries deliveries at once (and QueuedDeliveries waiting), a delivery is
/// answered 503 + Retry-After with problem+json at once; the delivery holding the place is processed normally, and the
/// next one after it is accepted.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class IngestLimitTests(AzuriteFixture storage)
{
    [Fact]
    public async Task Delivery_beyond_the_limit_is_503_with_retry_after_and_the_one_holding_the_place_is_ingested()
    {
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false,
            settings: new Dictionary<string, string?> { ["Remediation:MaxConcurrentDeliveries"] = "1", ["Remediation:QueuedDeliveries"] = "0" });
        var json = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));
        // Leading white space (valid JSON) larger than the client's send buffer, so the stalled part is on the wire.
        const int Stalled = 64 * 1024;
        var payload = Encoding.UTF8.GetBytes(new string(' ', Stalled) + json);

        // The first delivery sends its headers and part of its body, then stalls: it holds the one place while its body is read.
        // A probe (a bad body: 400, nothing claimed) is let through until it does. A probe holding the place at the moment the
        // delivery arrives has the delivery refused instead (it is then still sending its body): the round is started again.
        HttpResponseMessage? refused = null;
        Pipe body = null!;
        Task<HttpResponseMessage> stalled = null!;
        for (var round = 0; round < 3 && refused is null; round++)
        {
            body = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
            await body.Writer.WriteAsync(payload.AsMemory(0, Stalled));
            var content = new StreamContent(body.Reader.AsStream());
            content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
            content.Headers.ContentLength = payload.Length;
            stalled = host.Client.PostAsync("api/alerts/alertmanager", content);
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
            while (refused is null && DateTime.UtcNow < deadline)
            {
                var probe = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent("{}", Encoding.UTF8, "application/json")).WaitAsync(TimeSpan.FromSeconds(10));
                if (probe.StatusCode == HttpStatusCode.ServiceUnavailable)
                {
                    refused = probe;
                }
                else
                {
                    Assert.Equal(HttpStatusCode.BadRequest, probe.StatusCode);
                    probe.Dispose();
                }
            }
            if (refused is null)
            {
                // The delivery never held the place: it was refused while a probe held it, which its answer shows.
                await body.Writer.WriteAsync(payload.AsMemory(Stalled));
                await body.Writer.CompleteAsync();
                // Answered 503 before its body was read; the server may also have closed the connection on the unread body.
                var lost = await Record.ExceptionAsync(async () =>
                {
                    using var answer = await stalled.WaitAsync(TimeSpan.FromSeconds(30));
                    Assert.Equal(HttpStatusCode.ServiceUnavailable, answer.StatusCode);
                });
                Assert.True(lost is null or HttpRequestException, lost?.ToString());
            }
        }
        Assert.True(refused is not null, "no 503 in 3 rounds of 15 s");
        using (refused)
        {
            Assert.Equal(TimeSpan.FromSeconds(5), refused.Headers.RetryAfter?.Delta);
            Assert.Equal("application/problem+json", refused.Content.Headers.ContentType?.MediaType);
            var problem = await BadInputTests.ReadProblemAsync(refused);
            Assert.Contains("1 alert deliveries at once with 0 waiting", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.False(stalled.IsCompleted);

        await body.Writer.WriteAsync(payload.AsMemory(Stalled));
        await body.Writer.CompleteAsync();
        using (var first = await stalled.WaitAsync(TimeSpan.FromSeconds(30)))
        {
            Assert.Equal(HttpStatusCode.Accepted, first.StatusCode);
        }
        Assert.Single(await host.Store.ListAsync(new Storage.IncidentQuery()));
        using var next = await host.Client.PostAsync("api/alerts/alertmanager", new ByteArrayContent(payload) { Headers = { ContentType = new("application/json") } });
        Assert.Equal(HttpStatusCode.Accepted, next.StatusCode);
    }

    [Theory]
    [InlineData("MaxConcurrentDeliveries", "0")]
    [InlineData("QueuedDeliveries", "-1")]
    public async Task Limit_out_of_range_is_refused_at_start_naming_the_setting(string key, string value)
    {
        var failure = await Assert.ThrowsAnyAsync<Exception>(async () =>
        {
            await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false,
                settings: new Dictionary<string, string?> { ["Remediation:" + key] = value });
        });
        Assert.Contains($"Remediation:{key} '{value}' must be a whole number", failure.Message, StringComparison.Ordinal);
    }
}
