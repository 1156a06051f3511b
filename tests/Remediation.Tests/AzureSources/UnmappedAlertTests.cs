using System.Collections.Concurrent;
using System.Net;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.AzureSources;

/// <summary>
/// Alerts that name no Kubernetes workload (VM, budget, service health, node alerts) end Ignored and page nobody, unless
/// the policy says <c>unmappedAlerts: escalate</c>; an alert that names a Kubernetes object invalidly is always Escalated.
/// Over HTTP against the standalone host (worker off) and real Azurite, with a webhook receiver for notifications.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class UnmappedAlertTests(AzuriteFixture storage)
{
    private const string InvalidDeploymentPayload = """
        {"version":"4","status":"firing","alerts":[{"status":"firing",
          "labels":{"alertname":"KubeDeploymentReplicasMismatch","namespace":"shop","deployment":"Checkout_Bad"},
          "startsAt":"2026-11-26T03:00:00Z","fingerprint":"invalid-name-1"}]}
        """;

    private const string NoKubernetesLabelsPayload = """
        {"version":"4","status":"firing","alerts":[{"status":"firing",
          "labels":{"alertname":"HostHighCpuLoad","instance":"10.0.0.7:9100","job":"node"},
          "startsAt":"2026-11-26T03:00:00Z","fingerprint":"host-cpu-1"}]}
        """;

    [Fact]
    public async Task Alerts_naming_no_workload_are_ignored_and_notify_nobody_while_an_invalid_name_is_escalated_and_notified()
    {
        await using var hooks = await HookReceiver.StartAsync();
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, settings: hooks.Settings);

        foreach (var file in (string[])["azuremonitor/activity-log-alert-cluster.json", "azuremonitor/ms-budget-test-action.json", "azuremonitor/ms-activity-log-test-action.json"])
        {
            using var response = await PostAsync(host, "api/alerts/azuremonitor", await File.ReadAllTextAsync(RepoPaths.Payload(file)));
            Assert.Equal(1, (await ReadJsonAsync(response)).GetProperty("ignored").GetInt32());
        }
        using (var response = await PostAsync(host, "api/alerts/alertmanager", NoKubernetesLabelsPayload))
        {
            Assert.Equal(1, (await ReadJsonAsync(response)).GetProperty("ignored").GetInt32());
        }
        using (var response = await PostAsync(host, "api/alerts/alertmanager", InvalidDeploymentPayload))
        {
            var ingest = await ReadJsonAsync(response);
            Assert.Equal(1, ingest.GetProperty("escalated").GetInt32());
            Assert.Equal(0, ingest.GetProperty("ignored").GetInt32());
        }

        var incidents = await host.Store.ListAsync(new IncidentQuery());
        Assert.Equal(5, incidents.Count);
        var escalated = Assert.Single(incidents, i => i.State == IncidentState.Escalated);
        Assert.Equal("KubeDeploymentReplicasMismatch", escalated.AlertName);
        Assert.Contains("'deployment'", escalated.OutcomeReason, StringComparison.Ordinal);
        var ignored = incidents.Where(i => i.State == IncidentState.Ignored).ToList();
        Assert.Equal(4, ignored.Count);
        Assert.All(ignored, i =>
        {
            Assert.Equal(nameof(IncidentState.Ignored), i.Outcome);
            Assert.NotNull(i.CompletedAt);
            Assert.Contains("names no Kubernetes workload", i.OutcomeReason, StringComparison.Ordinal);
        });
        Assert.True(IncidentLifecycle.IsTerminal(IncidentState.Ignored));
        if (await host.Queue.Queue.ExistsAsync())
        {
            Assert.Empty((await host.Queue.Queue.PeekMessagesAsync(10)).Value);
        }

        // Only the escalation pages someone. Notifications are sent before the ingest request answers, every incident is
        // terminal and nothing is queued (asserted above), so no further notification can come.
        var message = Assert.Single(hooks.Received);
        Assert.Contains("KubeDeploymentReplicasMismatch", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Policy_unmapped_alerts_escalate_escalates_and_notifies_alerts_naming_no_workload()
    {
        await using var hooks = await HookReceiver.StartAsync();
        var policy = "unmappedAlerts: escalate\n" + HostHarness.DefaultPolicy;
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, policy, hooks.Settings, worker: false);

        using (var response = await PostAsync(host, "api/alerts/azuremonitor", await File.ReadAllTextAsync(RepoPaths.Payload("azuremonitor/ms-budget-test-action.json"))))
        {
            var ingest = await ReadJsonAsync(response);
            Assert.Equal(1, ingest.GetProperty("escalated").GetInt32());
            Assert.Equal(0, ingest.GetProperty("ignored").GetInt32());
        }
        var incident = Assert.Single(await host.Store.ListAsync(new IncidentQuery()));
        Assert.Equal(IncidentState.Escalated, incident.State);
        Assert.Equal("Test_forcasted_budget", incident.AlertName);
        Assert.Contains("cannot map the alert to a Kubernetes workload", incident.OutcomeReason, StringComparison.Ordinal);
        Assert.Contains("Test_forcasted_budget", await hooks.WaitForAsync(1), StringComparison.Ordinal);
    }

    private static async Task<HttpResponseMessage> PostAsync(HostHarness host, string route, string body)
    {
        var response = await host.Client.PostAsync(route, new StringContent(body, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        return response;
    }

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }

    /// <summary>An incoming-webhook endpoint that keeps what it is sent.</summary>
    private sealed class HookReceiver : IAsyncDisposable
    {
        private readonly WebApplication _app;

        private HookReceiver(WebApplication app, int port)
        {
            _app = app;
            Settings = new Dictionary<string, string?> { ["Remediation:Notifications:WebhookUrl"] = $"http://127.0.0.1:{port}/hooks" };
        }

        public ConcurrentQueue<string> Received { get; } = new();
        public Dictionary<string, string?> Settings { get; }

        public static async Task<HookReceiver> StartAsync()
        {
            var port = FreePort.Next();
            var builder = WebApplication.CreateSlimBuilder();
            builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
            var app = builder.Build();
            var receiver = new HookReceiver(app, port);
            app.MapPost("/{**path}", async (HttpRequest request) =>
            {
                using var reader = new StreamReader(request.Body);
                receiver.Received.Enqueue(await reader.ReadToEndAsync());
                return Results.Ok();
            });
            await app.StartAsync();
            return receiver;
        }

        /// <summary>Waits for the n-th message and returns it.</summary>
        public async Task<string> WaitForAsync(int count)
        {
            var clock = System.Diagnostics.Stopwatch.StartNew();
            while (Received.Count < count && clock.Elapsed < TimeSpan.FromSeconds(15))
            {
                await Task.Delay(50);
            }
            Assert.True(Received.Count >= count, $"expected {count} notifications, got {Received.Count}");
            return Received.ElementAt(count - 1);
        }

        public async ValueTask DisposeAsync() => await _app.DisposeAsync();
    }
}
