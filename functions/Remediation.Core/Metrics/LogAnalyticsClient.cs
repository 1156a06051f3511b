using System.Globalization;
using System.Text.Json;
using System.Xml;
using Azure;
using Azure.Core;
using Azure.Core.Pipeline;

namespace Remediation.Metrics;

/// <summary>Configuration section "Remediation:LogAnalytics" (Container insights workspace).</summary>
public sealed class LogAnalyticsOptions
{
    public const string SectionName = "Remediation:LogAnalytics";

    /// <summary>The workspace (customer) id, a GUID; empty disables Log Analytics evidence.</summary>
    public string? WorkspaceId { get; set; }

    /// <summary>Query endpoint; sovereign clouds differ (e.g. https://api.loganalytics.azure.cn).</summary>
    public Uri Endpoint { get; set; } = new("https://api.loganalytics.io");

    /// <summary>Client id of a user-assigned managed identity; empty uses DefaultAzureCredential.</summary>
    public string? ClientId { get; set; }

    public TimeSpan QueryTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>How far back KubePodInventory and ContainerLogV2 are searched.</summary>
    public TimeSpan Lookback { get; set; } = TimeSpan.FromHours(1);
}

/// <summary>Pipeline options for <see cref="LogAnalyticsClient"/> (tests set Transport).</summary>
public sealed class LogAnalyticsClientOptions : ClientOptions
{
    public LogAnalyticsClientOptions()
    {
        Retry.MaxRetries = 1;
        Retry.Delay = TimeSpan.FromMilliseconds(200);
        Retry.NetworkTimeout = TimeSpan.FromSeconds(10);
    }

    /// <summary>Requests go through <paramref name="client"/> (a factory client whose resilience handler retries; Azure.Core's retry is off).</summary>
    public static LogAnalyticsClientOptions Over(HttpClient client)
    {
        var options = new LogAnalyticsClientOptions { Transport = new HttpClientTransport(client) };
        options.Retry.MaxRetries = 0;
        return options;
    }
}

/// <summary>The service answered with {"error":{"code","message",...}} (or a non-JSON failure).</summary>
public sealed class LogAnalyticsQueryException(string code, string message, int status, Exception? inner = null) : Exception(message, inner)
{
    public string Code { get; } = code;

    public int Status { get; } = status;
}

/// <summary>
/// Log Analytics query API over Azure.Core's pipeline: POST {endpoint}/v1/workspaces/{id}/query with {query, timespan}
/// and an Entra ID token for https://api.loganalytics.io/.default.
/// </summary>
public sealed class LogAnalyticsClient
{
    public const string Scope = "https://api.loganalytics.io/.default";
    private readonly HttpPipeline _pipeline;
    private readonly LogAnalyticsOptions _options;
    private readonly TimeProvider _timeProvider;

    public LogAnalyticsClient(LogAnalyticsOptions options, TokenCredential credential, TimeProvider timeProvider, LogAnalyticsClientOptions? clientOptions = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentException.ThrowIfNullOrWhiteSpace(options.WorkspaceId);
        _options = options;
        _timeProvider = timeProvider;
        var scope = options.Endpoint.GetLeftPart(UriPartial.Authority).TrimEnd('/') + "/.default";
        _pipeline = HttpPipelineBuilder.Build(clientOptions ?? new LogAnalyticsClientOptions(), new BearerTokenAuthenticationPolicy(credential, scope));
    }

    public LogAnalyticsOptions Options => _options;

    /// <summary>Runs a KQL query over the last <paramref name="timespan"/>.</summary>
    public async Task<LogsQueryResult> QueryAsync(string kql, TimeSpan timespan, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(kql);
        using var timeout = new CancellationTokenSource(_options.QueryTimeout, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        using var message = _pipeline.CreateMessage();
        var request = message.Request;
        request.Method = RequestMethod.Post;
        request.Uri.Reset(new Uri(_options.Endpoint, $"v1/workspaces/{Uri.EscapeDataString(_options.WorkspaceId!)}/query"));
        request.Headers.Add(HttpHeader.Common.JsonContentType);
        request.Headers.Add("Accept", "application/json");
        // Server-side timeout (seconds), slightly longer than ours so the client decides.
        request.Headers.Add("Prefer", "wait=" + ((int)Math.Ceiling(_options.QueryTimeout.TotalSeconds)).ToString(CultureInfo.InvariantCulture));
        request.Content = RequestContent.Create(Body(kql, timespan));
        try
        {
            await _pipeline.SendAsync(message, linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Log Analytics query timed out after {_options.QueryTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s", ex);
        }
        catch (Exception ex) when (ResilienceFailure.Describe(ex) is { } why)
        {
            throw new LogAnalyticsQueryException("unavailable", "Log Analytics " + why, 0, ex);
        }
        var response = message.Response;
        var content = response.Content.ToMemory();
        if (response.Status >= 400)
        {
            throw Error(response.Status, content);
        }
        return Parse(content);
    }

    /// <summary>The request body: {"query": kql, "timespan": ISO 8601 duration}.</summary>
    public static byte[] Body(string kql, TimeSpan timespan)
    {
        using var stream = new MemoryStream();
        using (var writer = new Utf8JsonWriter(stream))
        {
            writer.WriteStartObject();
            writer.WriteString("query", kql);
            writer.WriteString("timespan", XmlConvert.ToString(timespan));
            writer.WriteEndObject();
        }
        return stream.ToArray();
    }

    public static LogsQueryResult Parse(ReadOnlyMemory<byte> content)
    {
        using var doc = JsonDocument.Parse(content);
        var root = doc.RootElement;
        if (root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
        {
            throw ErrorOf(200, error);
        }
        if (!root.TryGetProperty("tables", out var tables) || tables.ValueKind != JsonValueKind.Array)
        {
            throw new LogAnalyticsQueryException("format", "Log Analytics answer has no tables", 200);
        }
        var result = new List<LogsTable>();
        foreach (var t in tables.EnumerateArray())
        {
            var columns = t.GetProperty("columns").EnumerateArray()
                .Select(c => new LogsColumn(c.GetProperty("name").GetString() ?? "", c.TryGetProperty("type", out var type) ? type.GetString() ?? "string" : "string"))
                .ToList();
            var rows = new List<LogsRow>();
            var table = new LogsTable(t.TryGetProperty("name", out var n) ? n.GetString() ?? "" : "", columns, rows);
            foreach (var r in t.GetProperty("rows").EnumerateArray())
            {
                rows.Add(new LogsRow(table, r.EnumerateArray().Select(c => c.Clone()).ToArray()));
            }
            result.Add(table);
        }
        return new LogsQueryResult(result);
    }

    private static LogAnalyticsQueryException Error(int status, ReadOnlyMemory<byte> content)
    {
        try
        {
            using var doc = JsonDocument.Parse(content);
            if (doc.RootElement.TryGetProperty("error", out var error))
            {
                return ErrorOf(status, error);
            }
        }
        catch (JsonException ex)
        {
            return new LogAnalyticsQueryException("http", $"Log Analytics answered {status}: {Truncate(System.Text.Encoding.UTF8.GetString(content.Span))}", status, ex);
        }
        return new LogAnalyticsQueryException("http", $"Log Analytics answered {status}: {Truncate(System.Text.Encoding.UTF8.GetString(content.Span))}", status);
    }

    /// <summary>error.code / error.message, with the innermost innererror message (the KQL syntax error) appended.</summary>
    private static LogAnalyticsQueryException ErrorOf(int status, JsonElement error)
    {
        var code = error.TryGetProperty("code", out var c) ? c.GetString() ?? "unknown" : "unknown";
        var message = error.TryGetProperty("message", out var m) ? m.GetString() ?? "" : "";
        var inner = error;
        string? innermost = null;
        while (inner.TryGetProperty("innererror", out var next) && next.ValueKind == JsonValueKind.Object)
        {
            inner = next;
            if (inner.TryGetProperty("message", out var im))
            {
                innermost = im.GetString();
            }
        }
        var text = innermost is null || innermost == message ? $"{code}: {message}" : $"{code}: {message} ({innermost})";
        return new LogAnalyticsQueryException(code, "Log Analytics query failed: " + text, status);
    }

    private static string Truncate(string s) => s.Length > 300 ? s[..300] : s;

    /// <summary>A KQL string literal.</summary>
    public static string Literal(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "\"" + value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)
            .Replace("\n", "\\n", StringComparison.Ordinal).Replace("\r", "\\r", StringComparison.Ordinal) + "\"";
    }
}
