using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Remediation.Alerts;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Skeleton;

namespace Remediation.Tests.AzureSources;

/// <summary>
/// Over HTTP against the standalone host and real Azurite (worker off, so nothing is acted on): each Azure schema and
/// handshake, the incident it stores, dedup of Event Grid redeliveries, and 400s naming the field.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class AzureSourcesHttpTests(AzuriteFixture storage) : IAsyncLifetime
{
    private HostHarness _host = null!;

    public async Task InitializeAsync() => _host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    // ---------- Azure Monitor common alert schema ----------

    [Theory]
    [InlineData("azuremonitor/metric-alert-fired.json", "checkout-restarting-containers", "checkout", "Sev2")]
    [InlineData("azuremonitor/log-alert-v2-oomkilled.json", "payments-oomkilled", "payments-6b7c9d8f5", "Sev1")]
    [InlineData("azuremonitor/prometheus-alert-crashloop.json", "KubePodCrashLooping", "checkout-76bf44d6cf-5kk4f", "Sev3")]
    public async Task Common_schema_alert_is_accepted_and_claimed_for_its_workload(string file, string alertName, string workload, string severity)
    {
        var expected = AzureMonitorNormalizerTests.ParseFile(file);
        using var response = await PostFileAsync("api/alerts/azuremonitor", file);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ingest = await ReadJsonAsync(response);
        Assert.Equal(1, ingest.GetProperty("accepted").GetInt32());
        Assert.Equal(expected.IncidentId, ingest.GetProperty("incidents")[0].GetString());

        var incident = await _host.Store.GetAsync(expected.IncidentId);
        Assert.NotNull(incident);
        Assert.Equal(IncidentState.Received, incident.State);
        Assert.Equal("AzureMonitor", incident.Source);
        Assert.Equal(alertName, incident.AlertName);
        Assert.Equal("shop", incident.Namespace);
        Assert.Equal(workload, incident.Workload);
        Assert.Equal(severity, incident.Severity);
        Assert.Equal(expected.StartsAt, incident.StartsAt);
        Assert.Equal(expected.Fingerprint, incident.Fingerprint);
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task Resolved_notification_marks_the_fired_incident_resolved()
    {
        using (var fired = await PostFileAsync("api/alerts/azuremonitor", "azuremonitor/metric-alert-fired.json"))
        {
            Assert.Equal(HttpStatusCode.Accepted, fired.StatusCode);
        }
        using var resolved = await PostFileAsync("api/alerts/azuremonitor", "azuremonitor/metric-alert-resolved.json");
        Assert.Equal(HttpStatusCode.Accepted, resolved.StatusCode);
        Assert.Equal(1, (await ReadJsonAsync(resolved)).GetProperty("resolved").GetInt32());
        var incidents = await _host.Store.ListAsync(new IncidentQuery());
        var incident = Assert.Single(incidents);
        Assert.Equal(DateTimeOffset.Parse("2026-11-26T03:21:40.1183020Z", System.Globalization.CultureInfo.InvariantCulture), incident.ResolvedAt);
    }

    [Fact]
    public async Task Alert_without_a_workload_is_recorded_ignored_with_the_reason()
    {
        using var response = await PostFileAsync("api/alerts/azuremonitor", "azuremonitor/activity-log-alert-cluster.json");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var ingest = await ReadJsonAsync(response);
        Assert.Equal(1, ingest.GetProperty("ignored").GetInt32());
        Assert.Equal(0, ingest.GetProperty("escalated").GetInt32());
        var incident = Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
        Assert.Equal(IncidentState.Ignored, incident.State);
        Assert.Equal(nameof(IncidentState.Ignored), incident.Outcome);
        Assert.Equal("aks-shop-prod-stopped", incident.AlertName);
        Assert.Contains("names no Kubernetes workload", incident.OutcomeReason, StringComparison.Ordinal);
        if (await _host.Queue.Queue.ExistsAsync())
        {
            Assert.Empty((await _host.Queue.Queue.PeekMessagesAsync(10)).Value);
        }
    }

    [Theory]
    [InlineData("", "body", "body is empty")]
    [InlineData("{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{\"essentials\":{\"alertId\":\"a\",\"alertRule\":\"r\",\"severity\":\"Sev1\",\"signalType\":\"Metric\",\"monitorCondition\":\"Flapping\",\"firedDateTime\":\"2026-11-26T03:00:00Z\"}}}",
        "$.data.essentials.monitorCondition", "unknown monitorCondition 'Flapping'")]
    [InlineData("{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{\"essentials\":{\"alertRule\":\"r\",\"severity\":\"Sev1\",\"signalType\":\"Metric\",\"monitorCondition\":\"Fired\",\"firedDateTime\":\"2026-11-26T03:00:00Z\"}}}",
        "$.data.essentials.alertId", "'alertId' is missing")]
    [InlineData("{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{\"essentials\":{\"alertId\":\"a\",\"severity\":\"Sev9\",\"monitorCondition\":\"Fired\",\"firedDateTime\":\"2026-11-26T03:00:00Z\"}}}",
        "$.data.essentials.severity", "unknown severity 'Sev9'")]
    [InlineData("{\"version\":\"4\",\"alerts\":[]}", "$.schemaId", "'schemaId' is missing")]
    [InlineData("{\"schemaId\":", "$", "malformed JSON")]
    public async Task Malformed_azure_monitor_payload_is_400_naming_the_field(string body, string field, string detail)
    {
        using var response = await _host.Client.PostAsync("api/alerts/azuremonitor", new StringContent(body, Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field, detail);
    }

    [Fact]
    public async Task Oversize_azure_monitor_payload_is_413()
    {
        var huge = "{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"pad\":\"" + new string('x', 1024 * 1024 + 10) + "\"}";
        using var response = await _host.Client.PostAsync("api/alerts/azuremonitor", new StringContent(huge, Encoding.UTF8, "application/json"));
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, "body", "exceeds 1048576 bytes");
    }

    // ---------- Event Grid handshakes ----------

    [Fact]
    public async Task Subscription_validation_event_is_answered_with_the_code_and_stores_nothing()
    {
        using var response = await PostFileAsync("api/alerts/eventgrid", "eventgrid/subscription-validation.json");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        var body = await ReadJsonAsync(response);
        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", body.GetProperty("validationResponse").GetString());
        Assert.Empty(await _host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task CloudEvents_abuse_protection_handshake_grants_the_origin_without_credentials()
    {
        using var anonymous = new HttpClient { BaseAddress = _host.BaseAddress };
        using var request = new HttpRequestMessage(HttpMethod.Options, "api/alerts/eventgrid");
        request.Headers.Add("WebHook-Request-Origin", "eventgrid.azure.net");
        request.Headers.Add("WebHook-Request-Rate", "120");
        using var response = await anonymous.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("eventgrid.azure.net", Assert.Single(response.Headers.GetValues("WebHook-Allowed-Origin")));
        Assert.Equal("*", Assert.Single(response.Headers.GetValues("WebHook-Allowed-Rate")));
        Assert.Contains("POST", response.Content.Headers.Allow);

        using var bare = new HttpRequestMessage(HttpMethod.Options, "api/alerts/eventgrid");
        using var missing = await anonymous.SendAsync(bare);
        await AssertProblemAsync(missing, HttpStatusCode.BadRequest, "WebHook-Request-Origin", "needs the 'WebHook-Request-Origin' header");
        Assert.False(missing.Headers.Contains("WebHook-Allowed-Origin"));
    }

    [Theory]
    [InlineData("\u00e9vil.example")]
    [InlineData("a\u007fb")]
    [InlineData("a\r\nSet-Cookie: x=1")]
    [InlineData("https://eventgrid.azure.net/path")]
    public void Handshake_refuses_an_origin_that_is_not_a_host_name_naming_the_header(string origin)
    {
        // Echoed into a response header, a non-ASCII or control character made Kestrel fail the response (500).
        var context = new Microsoft.AspNetCore.Http.DefaultHttpContext();
        context.Request.Headers["WebHook-Request-Origin"] = origin;
        var result = Remediation.Http.EventGridEndpoints.Handshake(context.Request);
        var problem = Assert.IsAssignableFrom<Microsoft.AspNetCore.Http.IValueHttpResult<Remediation.Http.ApiProblem>>(result).Value!;
        Assert.Equal(400, problem.Status);
        Assert.Equal("WebHook-Request-Origin", problem.Field);
        Assert.Contains("host name", problem.Detail, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Handshake_refuses_an_origin_outside_the_allowed_list()
    {
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false,
            settings: new Dictionary<string, string?> { ["Remediation:Auth:AllowedWebHookOrigins:0"] = "eventgrid.azure.net" });
        using var request = new HttpRequestMessage(HttpMethod.Options, "api/alerts/eventgrid");
        request.Headers.Add("WebHook-Request-Origin", "evil.example.com");
        using var response = await host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.False(response.Headers.Contains("WebHook-Allowed-Origin"));
    }

    // ---------- Event Grid deliveries ----------

    [Fact]
    public async Task Event_grid_schema_alert_is_claimed_as_an_azure_monitor_incident()
    {
        var expected = AzureMonitorNormalizerTests.ParseFile("azuremonitor/metric-alert-fired.json");
        var delivery = EventGridNormalizer.Parse(await ReadPayloadAsync("eventgrid/alert-eventgrid-schema.json"), "application/json");
        var alert = Assert.Single(delivery.Alerts);
        Assert.Equal(expected.IncidentId, alert.IncidentId);
        Assert.Equal(new WorkloadTarget("shop", "checkout"), alert.Target);
        Assert.Equal("7c4e2f1a-9b3d-4e8c-a1f6-5d0b2c9e8a71", alert.Annotations["eventId"]);
        Assert.Equal("AzureMonitor.Alert.Fired", alert.Annotations["eventType"]);

        using var response = await PostFileAsync("api/alerts/eventgrid", "eventgrid/alert-eventgrid-schema.json");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var incident = await _host.Store.GetAsync(expected.IncidentId);
        Assert.NotNull(incident);
        Assert.Equal("AzureMonitor", incident.Source);
        Assert.Equal(("shop", "checkout"), (incident.Namespace, incident.Workload));
        Assert.Contains("7c4e2f1a-9b3d-4e8c-a1f6-5d0b2c9e8a71", incident.AlertJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Same_event_delivered_ten_times_concurrently_is_one_incident()
    {
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("eventgrid/alert-eventgrid-schema.json"));
        var responses = await Task.WhenAll(Enumerable.Range(0, 10).Select(_ =>
            _host.Client.PostAsync("api/alerts/eventgrid", new StringContent(payload, Encoding.UTF8, "application/json"))));
        try
        {
            Assert.All(responses, r => Assert.Equal(HttpStatusCode.Accepted, r.StatusCode));
            var bodies = await Task.WhenAll(responses.Select(ReadJsonAsync));
            Assert.Equal(1, bodies.Sum(b => b.GetProperty("accepted").GetInt32()));
            Assert.Equal(9, bodies.Sum(b => b.GetProperty("duplicates").GetInt32()));
        }
        finally
        {
            foreach (var r in responses)
            {
                r.Dispose();
            }
        }
        Assert.Single(await _host.Store.ListAsync(new IncidentQuery()));
        Assert.Single((await _host.Queue.Queue.PeekMessagesAsync(32)).Value);
    }

    [Fact]
    public async Task Structured_cloud_event_is_claimed()
    {
        var expected = AzureMonitorNormalizerTests.ParseFile("azuremonitor/prometheus-alert-crashloop.json");
        using var response = await PostFileAsync("api/alerts/eventgrid", "eventgrid/alert-cloudevent.json", "application/cloudevents+json");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var incident = await _host.Store.GetAsync(expected.IncidentId);
        Assert.NotNull(incident);
        Assert.Equal(("KubePodCrashLooping", "shop", "checkout-76bf44d6cf-5kk4f"), (incident.AlertName, incident.Namespace, incident.Workload));
    }

    [Fact]
    public async Task Batched_cloud_events_are_each_claimed()
    {
        var delivery = EventGridNormalizer.Parse(await ReadPayloadAsync("eventgrid/alerts-cloudevents-batch.json"), "application/cloudevents-batch+json");
        Assert.Equal<string>(["payments-6b7c9d8f5", "checkout"], delivery.Alerts.Select(a => a.Target!.Name).ToList());

        using var response = await PostFileAsync("api/alerts/eventgrid", "eventgrid/alerts-cloudevents-batch.json", "application/cloudevents-batch+json");
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        Assert.Equal(2, (await ReadJsonAsync(response)).GetProperty("accepted").GetInt32());
        var incidents = await _host.Store.ListAsync(new IncidentQuery());
        Assert.Equal<string?>(["checkout", "payments-6b7c9d8f5"], incidents.Select(i => i.Workload).Order(StringComparer.Ordinal).ToList());
    }

    [Fact]
    public async Task Binary_mode_cloud_event_is_claimed()
    {
        var expected = AzureMonitorNormalizerTests.ParseFile("azuremonitor/log-alert-v2-oomkilled.json");
        using var request = BinaryCloudEvent(await File.ReadAllTextAsync(RepoPaths.Payload("azuremonitor/log-alert-v2-oomkilled.json")), "ce-binary-1");
        using var response = await _host.Client.SendAsync(request);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        var incident = await _host.Store.GetAsync(expected.IncidentId);
        Assert.NotNull(incident);
        Assert.Equal(("payments-oomkilled", "shop", "payments-6b7c9d8f5"), (incident.AlertName, incident.Namespace, incident.Workload));
        Assert.Contains("ce-binary-1", incident.AlertJson, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Binary_mode_without_ce_source_is_400_naming_the_header()
    {
        using var request = BinaryCloudEvent(await File.ReadAllTextAsync(RepoPaths.Payload("azuremonitor/metric-alert-fired.json")), "ce-2");
        request.Headers.Remove("ce-source");
        using var response = await _host.Client.SendAsync(request);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "ce-source", "required header 'ce-source' is missing");
    }

    [Fact]
    public async Task Unsupported_event_type_is_400_naming_the_event_type_and_stores_nothing()
    {
        using var response = await PostFileAsync("api/alerts/eventgrid", "eventgrid/unsupported-aks-event.json");
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, "$[0].eventType",
            "unsupported event type 'Microsoft.ContainerService.NewKubernetesVersionAvailable'");
    }

    [Theory]
    [InlineData("application/json", "[{\"id\":\"1\",\"subject\":\"s\",\"dataVersion\":\"1\",\"eventTime\":\"2026-11-26T03:00:00Z\",\"data\":{}}]", "$[0].eventType", "'eventType' is missing")]
    [InlineData("application/json", "[{\"eventType\":\"T\",\"subject\":\"s\",\"dataVersion\":\"1\",\"eventTime\":\"2026-11-26T03:00:00Z\",\"data\":{}}]", "$[0].id", "'id' is missing")]
    [InlineData("application/json", "[{\"id\":\"1\",\"eventType\":\"T\",\"subject\":\"s\",\"dataVersion\":\"1\",\"eventTime\":\"soon\",\"data\":{}}]", "$[0].eventTime", "not an ISO 8601 time")]
    [InlineData("application/json", "[{\"id\":\"1\",\"eventType\":\"T\",\"subject\":\"s\",\"dataVersion\":\"1\",\"eventTime\":\"2026-11-26T03:00:00Z\"}]", "$[0].data", "'data' is missing")]
    [InlineData("application/json", "[{\"id\":\"1\",\"eventType\":\"AzureMonitor.Alert.Fired\",\"subject\":\"s\",\"dataVersion\":\"1\",\"eventTime\":\"2026-11-26T03:00:00Z\",\"data\":{\"schemaId\":\"azureMonitorCommonAlertSchema\",\"data\":{\"essentials\":{\"alertId\":\"a\",\"alertRule\":\"r\",\"severity\":\"Sev1\",\"signalType\":\"Metric\",\"monitorCondition\":\"Fired\"}}}}]",
        "$[0].data.data.essentials.firedDateTime", "'firedDateTime' is missing")]
    [InlineData("application/json", "[42]", "$[0]", "expected an Event Grid event object")]
    [InlineData("application/json", "\"hello\"", "$", "expected an array of Event Grid events or a CloudEvent")]
    [InlineData("application/json", "[{\"id\":", "$", "malformed JSON")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"0.3\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\",\"data\":{}}", "$.specversion", "unsupported CloudEvents specversion '0.3'")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"1\",\"type\":\"t\",\"data\":{}}", "$.source", "'source' is missing")]
    [InlineData("application/cloudevents+json", "{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"t\"}", "$.data", "'data' is missing")]
    [InlineData("application/cloudevents+json", "[]", "$", "carries one event object")]
    [InlineData("application/cloudevents-batch+json", "[{\"specversion\":\"1.0\",\"id\":\"1\",\"source\":\"s\",\"type\":\"Other.Thing\",\"data\":{\"x\":1}}]", "$[0].type", "unsupported event type 'Other.Thing'")]
    [InlineData("application/cloudevents-batch+json", "{\"specversion\":\"1.0\"}", "$", "carries an array of events")]
    [InlineData("application/json", "", "body", "body is empty")]
    public async Task Malformed_event_grid_delivery_is_400_naming_the_field(string contentType, string body, string field, string detail)
    {
        using var content = new StringContent(body, Encoding.UTF8);
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType);
        using var response = await _host.Client.PostAsync("api/alerts/eventgrid", content);
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, field, detail);
    }

    private HttpRequestMessage BinaryCloudEvent(string body, string id)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/eventgrid")
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("ce-specversion", "1.0");
        request.Headers.Add("ce-id", id);
        request.Headers.Add("ce-source", "/subscriptions/6f1c2a7e-0b4d-4c8e-9a31-5d2e8b7f4c10/resourceGroups/rg-shop-prod/providers/Microsoft.EventGrid/topics/egt-shop-alerts");
        request.Headers.Add("ce-type", "AzureMonitor.Alert.Fired");
        request.Headers.Add("ce-time", "2026-11-26T04:10:06Z");
        return request;
    }

    private async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string field, string detail)
    {
        Assert.Equal(status, response.StatusCode);
        var problem = await BadInputTests.ReadProblemAsync(response);
        Assert.Equal(field, problem.GetProperty("field").GetString());
        Assert.Contains(detail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _host.Store.ListAsync(new IncidentQuery()));
    }

    private Task<HttpResponseMessage> PostFileAsync(string route, string file, string contentType = "application/json")
    {
        var content = new ByteArrayContent(File.ReadAllBytes(RepoPaths.Payload(file)));
        content.Headers.ContentType = new MediaTypeHeaderValue(contentType) { CharSet = "utf-8" };
        return _host.Client.PostAsync(route, content);
    }

    private static async Task<byte[]> ReadPayloadAsync(string file) => await File.ReadAllBytesAsync(RepoPaths.Payload(file));

    private static async Task<JsonElement> ReadJsonAsync(HttpResponseMessage response)
    {
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }
}
