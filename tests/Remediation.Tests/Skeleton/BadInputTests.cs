using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Remediation.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Remediation.Tests.Skeleton;

/// <summary>Every bad input gets a 4xx problem+json naming the problem; storage down gives 503 + Retry-After.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class BadInputTests(AzuriteFixture storage) : IAsyncLifetime
{
    private HostHarness _host = null!;

    public async Task InitializeAsync() => _host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false);

    public async Task DisposeAsync() => await _host.DisposeAsync();

    [Theory]
    [InlineData("{\"alerts\": [", "malformed JSON", "$.alerts[0]")]
    [InlineData("not json at all", "malformed JSON", "$")]
    [InlineData("{\"version\":\"4\",\"status\":\"firing\"}", "'alerts' is missing", "$.alerts")]
    [InlineData("{\"version\":\"3\",\"alerts\":[]}", "Alertmanager webhook payload version \"3\" is not supported; expected version \"4\"", "$.version")]
    [InlineData("{\"version\":\"4\",\"alerts\":{\"a\":1}}", "$.alerts: expected an array of alert objects", "$.alerts")]
    [InlineData("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"startsAt\":\"2026-11-26T03:00:00Z\"}]}", "'labels' is missing", "$.alerts[0].labels")]
    [InlineData("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"namespace\":\"shop\"},\"startsAt\":\"2026-11-26T03:00:00Z\"}]}", "'alertname' is missing", "$.alerts[0].labels.alertname")]
    [InlineData("{\"version\":\"4\",\"alerts\":[{\"status\":\"burning\",\"labels\":{\"alertname\":\"X\"},\"startsAt\":\"2026-11-26T03:00:00Z\"}]}", "unknown status 'burning'", "$.alerts[0].status")]
    [InlineData("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"X\"}}]}", "'startsAt' is missing", "$.alerts[0].startsAt")]
    [InlineData("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":\"X\"},\"startsAt\":\"yesterday\"}]}", "$.alerts[0].startsAt: expected an RFC 3339 time such as 2026-11-30T04:30:00Z", "$.alerts[0].startsAt")]
    [InlineData("{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\",\"labels\":{\"alertname\":7},\"startsAt\":\"2026-11-26T03:00:00Z\"}]}", "$.alerts[0].labels.alertname: expected a string", "$.alerts[0].labels.alertname")]
    [InlineData("{\"version\":\"4\",\"alerts\":[42]}", "$.alerts[0]: expected an alert object", "$.alerts[0]")]
    [InlineData("", "body is empty", "body")]
    public async Task Malformed_or_wrong_schema_is_400_problem_naming_the_field(string body, string expectedDetail, string expectedField)
    {
        using var response = await PostAsync(body);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Contains(expectedDetail, problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(expectedField, problem.GetProperty("field").GetString());
        // Plain words for the sender: no .NET type names.
        Assert.DoesNotMatch(@"\b(System|Remediation|Microsoft)\.[A-Z]", problem.GetProperty("detail").GetString()!);
        Assert.Empty(await _host.Store.ListAsync(new Storage.IncidentQuery()));
    }

    [Fact]
    public async Task Oversize_body_is_413()
    {
        var huge = "{\"version\":\"4\",\"alerts\":[],\"pad\":\"" + new string('x', 1024 * 1024 + 10) + "\"}";
        using var response = await PostAsync(huge);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Contains("exceeds 1048576 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Alert_too_large_to_record_refuses_the_whole_delivery_with_400_and_claims_nothing()
    {
        const string small = """{"status":"firing","labels":{"alertname":"Small","namespace":"shop","deployment":"checkout"},"annotations":{},"startsAt":"2026-11-26T03:00:00Z","fingerprint":"aaaa000000000001"}""";
        var large = "{\"status\":\"firing\",\"labels\":{\"alertname\":\"Large\",\"namespace\":\"shop\",\"deployment\":\"frontend\"},\"annotations\":{\"description\":\"" +
            new string('x', 40_000) + "\"},\"startsAt\":\"2026-11-26T03:00:00Z\",\"fingerprint\":\"aaaa000000000002\"}";
        using var response = await PostAsync("""{"version":"4","status":"firing","alerts":[""" + small + "," + large + "]}");
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await ReadProblemAsync(response);
        Assert.Equal("alert 1 ('Large') is larger than 30000 characters once normalized; shorten its labels and annotations", problem.GetProperty("detail").GetString());
        Assert.Equal("$", problem.GetProperty("field").GetString());
        Assert.Empty(await _host.Store.ListAsync(new Storage.IncidentQuery()));
    }

    [Fact]
    public async Task Unauthenticated_and_wrong_token_are_401_and_store_nothing()
    {
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));
        using var anonymous = new HttpClient { BaseAddress = _host.BaseAddress };
        using var none = await anonymous.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, none.StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "wrong");
        using var wrong = await anonymous.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Unauthorized, wrong.StatusCode);
        Assert.Contains("not accepted", (await ReadProblemAsync(wrong)).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Empty(await _host.Store.ListAsync(new Storage.IncidentQuery()));
    }

    [Theory]
    [InlineData("limit=0", "limit")]
    [InlineData("state=Nope", "state")]
    [InlineData("since=1/2/2026", "since")]
    [InlineData("since=Tue,%2001%20Dec%202026%2000:00:00%20GMT", "since")]
    [InlineData("namespace=a&namespace=b", "namespace")]
    [InlineData("state=Failed&state=Succeeded", "state")]
    public async Task Bad_query_parameters_of_the_listing_are_400(string query, string field)
    {
        // An unknown state matched nothing and answered "no incidents"; a culture's date (1/2/2026) was read as one of two.
        using var response = await _host.Client.GetAsync("api/remediations?" + query);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(field, (await ReadProblemAsync(response)).GetProperty("field").GetString());
    }

    [Theory]
    [InlineData("state=awaitingapproval")]
    [InlineData("since=2026-11-26")]
    [InlineData("since=2026-11-26t03:00:00.5%2B01:00")]
    public async Task Good_query_parameters_of_the_listing_in_any_case_are_read(string query)
    {
        using var response = await _host.Client.GetAsync("api/remediations?" + query);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    private Task<HttpResponseMessage> PostAsync(string body) =>
        _host.Client.PostAsync("api/alerts/alertmanager", new StringContent(body, Encoding.UTF8, "application/json"));

    internal static async Task<JsonElement> ReadProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        using var doc = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return doc.RootElement.Clone();
    }
}

/// <summary>Storage down: the sender gets 503 + Retry-After, and its retry after recovery is processed.</summary>
public sealed class StorageOutageTests
{
    [Fact]
    public async Task Storage_down_leaves_the_sweep_one_plain_line_per_tick_without_the_sdks_text()
    {
        // Found from outside: every tick logged the whole exception chain, type names and the SDK's retry advice.
        var logs = new Security.CapturingLoggerProvider();
        var closed = $"DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;TableEndpoint=http://127.0.0.1:{FreePort.Next()}/devstoreaccount1;QueueEndpoint=http://127.0.0.1:{FreePort.Next()}/devstoreaccount1;";
        await using var host = await HostHarness.StartAsync(closed, null, worker: true,
            configureServices: services => services.AddSingleton<Microsoft.Extensions.Logging.ILoggerProvider>(logs));
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!SweepLines(logs).Any() && clock.Elapsed < TimeSpan.FromSeconds(60))
        {
            await Task.Delay(100);
        }
        var line = Assert.Single(SweepLines(logs).Take(1));
        Assert.Contains("Sweep skipped: storage unavailable", line, StringComparison.Ordinal);
        Assert.DoesNotContain(SweepLines(logs), l => l.Contains("Retry", StringComparison.Ordinal) || l.Contains("Exception", StringComparison.Ordinal)
            || l.Contains("ClientOptions", StringComparison.Ordinal) || l.Contains("\n", StringComparison.Ordinal));
    }

    private static IEnumerable<string> SweepLines(Security.CapturingLoggerProvider logs) =>
        logs.Lines.Where(l => l.Text.StartsWith("Remediation.Host.SweepTimer", StringComparison.Ordinal)).Select(l => l.Text);

    [Fact]
    public async Task Storage_down_gives_503_with_retry_after_and_the_retry_is_accepted()
    {
        await using var azurite = await AzuriteProcess.StartNewAsync();
        await using var host = await HostHarness.StartAsync(azurite.ConnectionString, null, worker: false);
        var payload = await File.ReadAllTextAsync(RepoPaths.Payload("alertmanager/kube-pod-crashlooping.json"));
        await azurite.StopAsync();

        using (var down = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.ServiceUnavailable, down.StatusCode);
            Assert.True(down.Headers.RetryAfter?.Delta > TimeSpan.Zero, "Retry-After header missing");
            var problem = await BadInputTests.ReadProblemAsync(down);
            Assert.Contains("storage is unavailable", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        await azurite.StartAsync();
        using var retry = await host.Client.PostAsync("api/alerts/alertmanager", new StringContent(payload, Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var incidents = await host.Store.ListAsync(new Storage.IncidentQuery());
        Assert.Single(incidents);
        var messages = await host.Queue.Queue.PeekMessagesAsync(10);
        Assert.Single(messages.Value);
    }
}
