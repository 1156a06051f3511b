using System.Globalization;
using System.Text;
using Remediation.Diagnosis;

namespace Remediation.Metrics;

/// <summary>Istio standard metrics (istio_requests_total, istio_request_duration_milliseconds) in Prometheus, reporter="destination".</summary>
public sealed class IstioSignals(PrometheusClient prometheus) : IMeshSignals
{
    public static string Selector(string @namespace, IReadOnlyCollection<string> services) =>
        $"reporter=\"destination\",destination_workload_namespace=\"{Escape(@namespace)}\",destination_service_name=~\"{string.Join("|", services.Distinct().Select(s => Escape(RegexEscape(s))))}\"";

    public static string RequestRateQuery(string selector, TimeSpan window, TimeSpan? offset = null) =>
        $"sum(rate(istio_requests_total{{{selector}}}[{Duration(window)}]{Offset(offset)})) by (destination_workload, destination_version)";

    public static string ErrorRateQuery(string selector, TimeSpan window, TimeSpan? offset = null) =>
        $"sum(rate(istio_requests_total{{{selector},response_code=~\"5..\"}}[{Duration(window)}]{Offset(offset)})) by (destination_workload, destination_version)";

    public static string P99Query(string selector, TimeSpan window, TimeSpan? offset = null) =>
        $"histogram_quantile(0.99, sum(rate(istio_request_duration_milliseconds_bucket{{{selector}}}[{Duration(window)}]{Offset(offset)})) by (le, destination_workload, destination_version))";

    public async Task<IReadOnlyList<VersionSignals>> VersionSignalsAsync(string @namespace, IReadOnlyCollection<string> services, TimeSpan window, TimeSpan? offset = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(services);
        var selector = Selector(@namespace, services);
        var rateTask = prometheus.QueryAsync(RequestRateQuery(selector, window, offset), cancellationToken: cancellationToken);
        var errorTask = prometheus.QueryAsync(ErrorRateQuery(selector, window, offset), cancellationToken: cancellationToken);
        var p99Task = prometheus.QueryAsync(P99Query(selector, window, offset), cancellationToken: cancellationToken);
        await Task.WhenAll(rateTask, errorTask, p99Task).ConfigureAwait(false);
        var errors = ByWorkload(await errorTask.ConfigureAwait(false));
        var p99 = ByWorkload(await p99Task.ConfigureAwait(false));
        var result = new List<VersionSignals>();
        foreach (var ((workload, version), rps) in ByWorkload(await rateTask.ConfigureAwait(false)))
        {
            // A rate that is not a number is unreadable, never 0: read as 0 it made a baseline "0 % errors" and an
            // innocent rollout the culprit. (A p99 of NaN is histogram_quantile's answer for no observations: none.)
            var errorRate = errors.TryGetValue((workload, version), out var e) ? e : 0;
            if (!double.IsFinite(rps) || !double.IsFinite(errorRate))
            {
                throw new PrometheusQueryException("format",
                    $"Prometheus answered a value that is not a number for {workload} {version} ({(double.IsFinite(rps) ? "5xx rate" : "request rate")} {(double.IsFinite(rps) ? errorRate : rps).ToString(CultureInfo.InvariantCulture)})");
            }
            var ratio = rps > 0 ? errorRate / rps : 0;
            double? latency = p99.TryGetValue((workload, version), out var l) && double.IsFinite(l) ? l : null;
            result.Add(new VersionSignals(workload, version, rps, ratio, latency));
        }
        return result.OrderBy(s => s.Version, StringComparer.Ordinal).ThenBy(s => s.Workload, StringComparer.Ordinal).ToList();
    }

    public async Task<double?> WorkloadErrorRatioAsync(string @namespace, string workload, TimeSpan window, CancellationToken cancellationToken = default)
    {
        var selector = $"reporter=\"destination\",destination_workload_namespace=\"{Escape(@namespace)}\",destination_workload=\"{Escape(workload)}\"";
        var query = $"sum(rate(istio_requests_total{{{selector},response_code=~\"5..\"}}[{Duration(window)}])) / sum(rate(istio_requests_total{{{selector}}}[{Duration(window)}]))";
        var result = await prometheus.QueryAsync(query, cancellationToken: cancellationToken).ConfigureAwait(false);
        if (result.Series.Count > 0)
        {
            return result.Series[0].Value is var v && double.IsFinite(v) ? v : null;
        }
        // No 5xx series at all: the ratio is 0 when there is traffic, unknown without.
        var total = await prometheus.QueryAsync($"sum(rate(istio_requests_total{{{selector}}}[{Duration(window)}]))", cancellationToken: cancellationToken).ConfigureAwait(false);
        return total.Series.Count > 0 && total.Series[0].Value > 0 ? 0 : null;
    }

    private static Dictionary<(string Workload, string Version), double> ByWorkload(PromQueryResult result)
    {
        var map = new Dictionary<(string, string), double>();
        foreach (var s in result.Series)
        {
            map[(s.Label("destination_workload"), s.Label("destination_version") is { Length: > 0 } v ? v : "unknown")] = s.Value;
        }
        return map;
    }

    /// <summary>A PromQL duration: 90s, 5m, 1h.</summary>
    public static string Duration(TimeSpan span)
    {
        if (span.TotalHours >= 1 && span.Ticks % TimeSpan.TicksPerHour == 0)
        {
            return ((long)span.TotalHours).ToString(CultureInfo.InvariantCulture) + "h";
        }
        if (span.TotalMinutes >= 1 && span.Ticks % TimeSpan.TicksPerMinute == 0)
        {
            return ((long)span.TotalMinutes).ToString(CultureInfo.InvariantCulture) + "m";
        }
        return Math.Max(1, (long)Math.Ceiling(span.TotalSeconds)).ToString(CultureInfo.InvariantCulture) + "s";
    }

    private static string Offset(TimeSpan? offset) => offset is { } o && o > TimeSpan.Zero ? " offset " + Duration(o) : "";

    /// <summary>Escapes a PromQL double-quoted string.</summary>
    public static string Escape(string value) =>
        value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private static string RegexEscape(string value)
    {
        var sb = new StringBuilder(value.Length);
        foreach (var c in value)
        {
            if ("\\.+*?()|[]{}^$".Contains(c, StringComparison.Ordinal))
            {
                sb.Append('\\');
            }
            sb.Append(c);
        }
        return sb.ToString();
    }
}
