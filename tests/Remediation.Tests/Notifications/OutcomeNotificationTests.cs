using System.Collections.Concurrent;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Notifications;

/// <summary>Outcomes are published as CloudEvents to an Event Grid topic and as an incoming-webhook message.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class OutcomeNotificationTests(AzuriteFixture storage)
{
    private sealed record Received(string Path, string? ContentType, string? Key, string Body);

    [Fact]
    public async Task Succeeded_and_escalated_outcomes_reach_the_topic_and_the_webhook()
    {
        var received = new ConcurrentQueue<Received>();
        var port = FreePort.Next();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        await using var receiver = builder.Build();
        receiver.MapPost("/{**path}", async (HttpRequest request) =>
        {
            using var reader = new StreamReader(request.Body);
            received.Enqueue(new Received(request.Path, request.ContentType, request.Headers["aeg-sas-key"], await reader.ReadToEndAsync()));
            return Results.Ok();
        });
        await receiver.StartAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Remediation:Notifications:EventGridTopicEndpoint"] = $"http://127.0.0.1:{port}/api/events",
            ["Remediation:Notifications:EventGridTopicKey"] = "topic-key-for-test",
            ["Remediation:Notifications:WebhookUrl"] = $"http://127.0.0.1:{port}/hooks/teams",
        };
        var policy = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));

        await using (var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "bad-rollout.yaml", policy, settings: settings))
        {
            var incident = await harness.FireAsync(PipelineHarness.Alert("shop", "checkout"));
            Assert.Empty(received);
            await harness.AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
            await harness.SweepAsync();
            Assert.Equal(IncidentState.Succeeded, (await harness.Store.GetAsync(incident.IncidentId))!.State);
        }
        await using (var harness = await PipelineHarness.StartAsync(storage.ConnectionString, "oom.yaml", policy, settings: settings))
        {
            await harness.FireAsync(PipelineHarness.Alert("shop", "cart"));
        }

        var events = received.Where(r => r.Path == "/api/events").ToList();
        Assert.Equal(2, events.Count);
        Assert.All(events, e => Assert.Equal("topic-key-for-test", e.Key));
        Assert.All(events, e => Assert.StartsWith("application/cloudevents-batch+json", e.ContentType, StringComparison.Ordinal));
        var completed = JsonDocument.Parse(events[0].Body).RootElement[0];
        Assert.Equal("Remediation.Completed", completed.GetProperty("type").GetString());
        Assert.Equal("shop/checkout", completed.GetProperty("subject").GetString());
        Assert.Equal("Succeeded", completed.GetProperty("data").GetProperty("state").GetString());
        Assert.Equal("rollback", completed.GetProperty("data").GetProperty("action").GetString());
        var escalated = JsonDocument.Parse(events[1].Body).RootElement[0];
        Assert.Equal("Remediation.Escalated", escalated.GetProperty("type").GetString());
        Assert.Equal("OutOfMemory", escalated.GetProperty("data").GetProperty("diagnosis").GetString());

        var hooks = received.Where(r => r.Path == "/hooks/teams").ToList();
        Assert.Equal(2, hooks.Count);
        var text = JsonDocument.Parse(hooks[0].Body).RootElement.GetProperty("text").GetString();
        Assert.StartsWith("[Succeeded] KubePodCrashLooping on shop/checkout", text, StringComparison.Ordinal);
        Assert.Contains("[Escalated]", JsonDocument.Parse(hooks[1].Body).RootElement.GetProperty("text").GetString(), StringComparison.Ordinal);
    }
}
