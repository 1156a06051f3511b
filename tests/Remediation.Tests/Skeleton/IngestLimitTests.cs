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
        var body = new Pipe(new PipeOptions(pauseWriterThreshold: 0));
        await body.Writer.WriteAsync(payload.AsMemory(0, Stalled));
        var content = new StreamContent(body.Reader.AsStream());
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/json");
        content.Headers.ContentLength = payload.Length;
        var stalled = host.Client.PostAsync("api/alerts/alertmanager", content);

        // Until the first one holds the place, a probe (a bad body: 400, nothing claimed) is let through.
        HttpResponseMessage? refused = null;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
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
            var state = stalled.IsCompleted ? (await stalled).StatusCode.ToString() : "still sending";
            await body.Writer.CompleteAsync();
            Assert.Fail($"no 503 within 30 s; the stalled delivery: {state}");
        }
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
