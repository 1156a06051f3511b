using System.Net;
using System.Text.Json;
using Azure.Core;
using Azure.Core.Pipeline;
using Remediation.Metrics;

namespace Remediation.Tests.Diagnosis;

/// <summary>The Log Analytics query client at the HTTP level: golden responses shaped like the public API's examples.</summary>
public sealed class LogAnalyticsClientTests
{
    private const string Workspace = "7e2d1c3b-9a8f-4e6d-b5c4-3a2b1c0d9e8f";

    internal static (LogAnalyticsClient Client, RecordingHandler Handler) Create(Func<RecordedHttpRequest, HttpResponseMessage> respond, TimeSpan? lookback = null)
    {
        var handler = new RecordingHandler(respond);
        var clientOptions = new LogAnalyticsClientOptions { Transport = new HttpClientTransport(new HttpClient(handler)) };
        clientOptions.Retry.MaxRetries = 0;
        var options = new LogAnalyticsOptions { WorkspaceId = Workspace, Lookback = lookback ?? TimeSpan.FromHours(1) };
        return (new LogAnalyticsClient(options, new StaticCredential(), TimeProvider.System, clientOptions), handler);
    }

    [Fact]
    public async Task Pod_inventory_sends_the_KQL_and_timespan_and_parses_the_table()
    {
        var (client, handler) = Create(_ => RecordingHandler.File("loganalytics/kubepodinventory.json"));
        var rows = await new LogAnalyticsContainerInsights(client).PodInventoryAsync("shop", "checkout");

        var request = Assert.Single(handler.Requests);
        Assert.Equal("POST", request.Method);
        Assert.Equal($"https://api.loganalytics.io/v1/workspaces/{Workspace}/query", request.Uri.ToString());
        Assert.Equal("Bearer la-token", request.Authorization);
        Assert.Equal("application/json", request.ContentType);
        using var body = JsonDocument.Parse(request.Body!);
        Assert.Equal("PT1H", body.RootElement.GetProperty("timespan").GetString());
        var kql = body.RootElement.GetProperty("query").GetString()!;
        Assert.Equal(LogAnalyticsContainerInsights.PodInventoryQuery("shop", "checkout"), kql);
        Assert.StartsWith("KubePodInventory", kql, StringComparison.Ordinal);
        Assert.Contains("Namespace == \"shop\"", kql, StringComparison.Ordinal);
        Assert.Contains("ControllerName startswith \"checkout-\"", kql, StringComparison.Ordinal);
        Assert.Contains("ContainerStatusReason", kql, StringComparison.Ordinal);

        Assert.Equal(2, rows.Count);
        Assert.Equal("checkout-7d9f8b6c5-x2k4p", rows[0].Pod);
        Assert.Equal("CrashLoopBackOff", rows[0].ContainerStatusReason);
        Assert.Equal(7, rows[0].RestartCount);
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 9, 58, 12, 345, TimeSpan.Zero), rows[0].TimeGenerated);
    }

    [Fact]
    public async Task Container_log_error_lines_of_the_failing_pods()
    {
        var (client, handler) = Create(_ => RecordingHandler.File("loganalytics/containerlogv2.json"), TimeSpan.FromMinutes(30));
        var lines = await new LogAnalyticsContainerInsights(client).ErrorLinesAsync("shop", ["checkout-7d9f8b6c5-x2k4p", "checkout-7d9f8b6c5-q8w2z"], 5);

        using var body = JsonDocument.Parse(Assert.Single(handler.Requests).Body!);
        Assert.Equal("PT30M", body.RootElement.GetProperty("timespan").GetString());
        var kql = body.RootElement.GetProperty("query").GetString()!;
        Assert.StartsWith("ContainerLogV2", kql, StringComparison.Ordinal);
        Assert.Contains("PodName in (\"checkout-7d9f8b6c5-x2k4p\", \"checkout-7d9f8b6c5-q8w2z\")", kql, StringComparison.Ordinal);
        Assert.Contains("top 5 by TimeGenerated desc", kql, StringComparison.Ordinal);
        Assert.Equal(2, lines.Count);
        Assert.StartsWith("FATAL: config key PAYMENTS_URL", lines[0].Message, StringComparison.Ordinal);
        Assert.Equal("checkout", lines[0].Container);
    }

    [Fact]
    public async Task Typed_accessors()
    {
        var (client, _) = Create(_ => RecordingHandler.File("loganalytics/typed-columns.json"));
        var table = (await client.QueryAsync("AzureActivity | summarize count() by Category", TimeSpan.FromDays(1))).Table;

        Assert.Equal("PrimaryResult", table.Name);
        Assert.Equal(["string", "long", "real", "bool", "datetime", "timespan", "dynamic"], table.Columns.Select(c => c.Type));
        var row = table.Rows[0];
        Assert.Equal("Administrative", row.GetString("Category"));
        Assert.Equal(20839, row.GetInt64("count_"));
        Assert.Equal(0.25, row.GetDouble("ratio"));
        Assert.True(row.GetBoolean("ok"));
        Assert.Equal(new DateTimeOffset(2025, 6, 2, 10, 0, 0, TimeSpan.Zero), row.GetDateTimeOffset("when"));
        Assert.Equal(TimeSpan.FromSeconds(90), row.GetTimeSpan("took"));
        Assert.Equal(137, row.GetDynamic("props")!.Value.GetProperty("exitCode").GetInt32());
        var nulls = table.Rows[1];
        Assert.Null(nulls.GetDouble("ratio"));
        Assert.Null(nulls.GetDateTimeOffset("when"));
        Assert.Null(nulls.GetDynamic("props"));
        Assert.Throws<KeyNotFoundException>(() => row.GetString("nope"));
    }

    [Fact]
    public async Task Error_answer_becomes_an_exception_with_code_and_message()
    {
        var (client, _) = Create(_ => RecordingHandler.File("loganalytics/error-syntax.json", HttpStatusCode.BadRequest));
        var ex = await Assert.ThrowsAsync<LogAnalyticsQueryException>(() => client.QueryAsync("KubePodInventory\n| wher x", TimeSpan.FromHours(1)));
        Assert.Equal("BadArgumentError", ex.Code);
        Assert.Equal(400, ex.Status);
        Assert.Contains("The request had some invalid properties", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Query could not be parsed at 'wher'", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Forbidden_without_a_json_body()
    {
        var (client, _) = Create(_ => new HttpResponseMessage(HttpStatusCode.Forbidden) { Content = new StringContent("denied") });
        var ex = await Assert.ThrowsAsync<LogAnalyticsQueryException>(() => client.QueryAsync("print 1", TimeSpan.FromHours(1)));
        Assert.Equal(403, ex.Status);
    }

    [Fact]
    public void Kql_literals_are_escaped()
    {
        Assert.Equal("\"a\\\"b\\\\c\"", LogAnalyticsClient.Literal("a\"b\\c"));
    }

    internal sealed class StaticCredential : TokenCredential
    {
        public List<string> Scopes { get; } = [];

        public override AccessToken GetToken(TokenRequestContext requestContext, CancellationToken cancellationToken)
        {
            Scopes.AddRange(requestContext.Scopes);
            return new AccessToken("la-token", DateTimeOffset.UtcNow.AddHours(1));
        }

        public override ValueTask<AccessToken> GetTokenAsync(TokenRequestContext requestContext, CancellationToken cancellationToken) =>
            ValueTask.FromResult(GetToken(requestContext, cancellationToken));
    }
}
