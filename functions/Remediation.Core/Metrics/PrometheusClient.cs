using System.Globalization;
using System.Net;
using System.Text.Json;

namespace Remediation.Metrics;

public enum PromResultType
{
    Vector,
    Matrix,
    Scalar,
    String,
}

/// <summary>One sample: Prometheus' [unix seconds, "value"] pair.</summary>
public sealed record PromSample(DateTimeOffset Timestamp, double Value);

/// <summary>One series of a vector (one sample) or matrix (many samples) result.</summary>
public sealed record PromSeries(IReadOnlyDictionary<string, string> Labels, IReadOnlyList<PromSample> Samples)
{
    /// <summary>The latest sample's value (a vector's only one).</summary>
    public double Value => Samples.Count == 0 ? double.NaN : Samples[^1].Value;

    public string Label(string name) => Labels.TryGetValue(name, out var value) ? value : "";
}

/// <summary>The data of a successful /api/v1/query or /api/v1/query_range answer.</summary>
public sealed record PromQueryResult(PromResultType Type, IReadOnlyList<PromSeries> Series, PromSample? Scalar, string? Text, IReadOnlyList<string> Warnings);

/// <summary>Prometheus answered with status "error" (or not with JSON at all).</summary>
public sealed class PrometheusQueryException(string errorType, string message, HttpStatusCode? statusCode = null, Exception? inner = null)
    : Exception(message, inner)
{
    /// <summary>bad_data, execution, timeout, canceled, unavailable, internal, not_found, ... or "http" / "format".</summary>
    public string ErrorType { get; } = errorType;

    public HttpStatusCode? StatusCode { get; } = statusCode;
}

/// <summary>
/// A PromQL client for the Prometheus HTTP API (also Azure Monitor managed Prometheus and Thanos/Mimir query frontends).
/// Every query has its own timeout (on the <see cref="TimeProvider"/>) on top of the caller's token (a diagnosis budget).
/// </summary>
public sealed class PrometheusClient(HttpClient httpClient, Uri baseUrl, PrometheusAuthenticator authenticator, TimeSpan queryTimeout, TimeProvider timeProvider)
{
    private readonly Uri _baseUrl = new(baseUrl.ToString().TrimEnd('/') + "/");

    public PrometheusClient(HttpClient httpClient, PrometheusOptions options, TimeProvider timeProvider, Azure.Core.TokenCredential? azureCredential = null)
        : this(httpClient,
            options?.Url ?? throw new ArgumentException("Remediation:Prometheus:Url is not set", nameof(options)),
            PrometheusAuthenticator.For(options, timeProvider, azureCredential), options.QueryTimeout, timeProvider)
    {
    }

    public Uri BaseUrl => _baseUrl;

    public TimeSpan QueryTimeout => queryTimeout;

    /// <summary>GET /api/v1/query: an instant query evaluated at <paramref name="time"/> (default: the server's now).</summary>
    public Task<PromQueryResult> QueryAsync(string promql, DateTimeOffset? time = null, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(promql);
        var query = new List<KeyValuePair<string, string>> { new("query", promql) };
        if (time is { } t)
        {
            query.Add(new("time", Unix(t)));
        }
        query.Add(new("timeout", Seconds(queryTimeout)));
        return SendAsync("api/v1/query", query, promql, cancellationToken);
    }

    /// <summary>GET /api/v1/query_range: a range query from <paramref name="start"/> to <paramref name="end"/> every <paramref name="step"/>.</summary>
    public Task<PromQueryResult> QueryRangeAsync(string promql, DateTimeOffset start, DateTimeOffset end, TimeSpan step, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(promql);
        if (step <= TimeSpan.Zero)
        {
            throw new ArgumentOutOfRangeException(nameof(step), "step must be positive");
        }
        var query = new List<KeyValuePair<string, string>>
        {
            new("query", promql), new("start", Unix(start)), new("end", Unix(end)), new("step", Seconds(step)), new("timeout", Seconds(queryTimeout)),
        };
        return SendAsync("api/v1/query_range", query, promql, cancellationToken);
    }

    private async Task<PromQueryResult> SendAsync(string path, List<KeyValuePair<string, string>> query, string promql, CancellationToken cancellationToken)
    {
        using var timeout = new CancellationTokenSource(queryTimeout, timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        var uri = new Uri(_baseUrl, path + "?" + string.Join("&", query.Select(p => Uri.EscapeDataString(p.Key) + "=" + Uri.EscapeDataString(p.Value))));
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, uri);
            request.Headers.Accept.ParseAdd("application/json");
            await authenticator.ApplyAsync(request, linked.Token).ConfigureAwait(false);
            using var response = await httpClient.SendAsync(request, HttpCompletionOption.ResponseHeadersRead, linked.Token).ConfigureAwait(false);
            var body = await response.Content.ReadAsByteArrayAsync(linked.Token).ConfigureAwait(false);
            return PrometheusResponse.Parse(body, response.StatusCode);
        }
        catch (OperationCanceledException ex) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"Prometheus query timed out after {queryTimeout.TotalSeconds.ToString(CultureInfo.InvariantCulture)}s: {promql}", ex);
        }
        catch (Exception ex) when (ResilienceFailure.Cause(ex) is { } cause)
        {
            throw cause;
        }
        catch (Exception ex) when (ResilienceFailure.Describe(ex) is { } why)
        {
            // The client's resilience handler gave up (attempt timeout) or refuses while its breaker is open: unreadable.
            throw new PrometheusQueryException("unavailable", "Prometheus " + why, null, ex);
        }
    }

    private static string Unix(DateTimeOffset t) => (t.ToUnixTimeMilliseconds() / 1000.0).ToString("0.###", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "s";
}

/// <summary>Parses the Prometheus HTTP API envelope: {"status":"success","data":{"resultType":...,"result":...}} or an error.</summary>
public static class PrometheusResponse
{
    public static PromQueryResult Parse(ReadOnlySpan<byte> body, HttpStatusCode statusCode = HttpStatusCode.OK)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body.ToArray());
        }
        catch (JsonException ex)
        {
            var text = System.Text.Encoding.UTF8.GetString(body);
            throw new PrometheusQueryException(statusCode == HttpStatusCode.OK ? "format" : "http",
                $"Prometheus answered {(int)statusCode} {statusCode} without a JSON body: {(text.Length > 200 ? text[..200] : text)}", statusCode, ex);
        }
        using (document)
        {
            var root = document.RootElement;
            var status = root.TryGetProperty("status", out var s) ? s.GetString() : null;
            if (status != "success")
            {
                var errorType = root.TryGetProperty("errorType", out var et) ? et.GetString() ?? "unknown" : "unknown";
                var error = root.TryGetProperty("error", out var e) ? e.GetString() ?? "" : $"status '{status}'";
                throw new PrometheusQueryException(errorType, $"Prometheus query failed ({errorType}): {error}", statusCode);
            }
            var warnings = root.TryGetProperty("warnings", out var w) && w.ValueKind == JsonValueKind.Array
                ? w.EnumerateArray().Select(x => x.GetString() ?? "").ToList()
                : [];
            if (!root.TryGetProperty("data", out var data) || !data.TryGetProperty("result", out var result))
            {
                throw new PrometheusQueryException("format", "Prometheus answer has no data.result");
            }
            var resultType = data.TryGetProperty("resultType", out var rt) ? rt.GetString() : null;
            switch (resultType)
            {
                case "vector":
                    return new PromQueryResult(PromResultType.Vector, result.EnumerateArray()
                        .Select(x => new PromSeries(Labels(x), x.TryGetProperty("value", out var v) ? [Sample(v)] : [])).ToList(), null, null, warnings);
                case "matrix":
                    return new PromQueryResult(PromResultType.Matrix, result.EnumerateArray()
                        .Select(x => new PromSeries(Labels(x), x.TryGetProperty("values", out var vs) ? vs.EnumerateArray().Select(Sample).ToList() : [])).ToList(), null, null, warnings);
                case "scalar":
                    return new PromQueryResult(PromResultType.Scalar, [], Sample(result), null, warnings);
                case "string":
                    return new PromQueryResult(PromResultType.String, [], null, result[1].GetString(), warnings);
                default:
                    throw new PrometheusQueryException("format", $"unknown resultType '{resultType}'");
            }
        }
    }

    private static Dictionary<string, string> Labels(JsonElement series)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (series.TryGetProperty("metric", out var metric))
        {
            foreach (var p in metric.EnumerateObject())
            {
                labels[p.Name] = p.Value.GetString() ?? "";
            }
        }
        return labels;
    }

    private static PromSample Sample(JsonElement pair)
    {
        var seconds = pair[0].GetDouble();
        var timestamp = DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(seconds * 1000));
        return new PromSample(timestamp, ParseValue(pair[1].GetString()));
    }

    public static double ParseValue(string? text) => text switch
    {
        null => double.NaN,
        "NaN" => double.NaN,
        "+Inf" or "Inf" => double.PositiveInfinity,
        "-Inf" => double.NegativeInfinity,
        _ => double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture),
    };
}
