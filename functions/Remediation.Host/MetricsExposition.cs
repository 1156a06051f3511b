using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;
using Prometheus;

namespace Remediation.Host;

/// <summary>
/// The host's Prometheus metrics: one prometheus-net registry per host, fed by a <see cref="MeterListener"/> on this
/// host's <see cref="RemediationMetrics"/> meter only (several hosts in one process never mix their numbers), served at
/// /metrics by prometheus-net's endpoint. Names follow the OpenTelemetry → Prometheus convention the dashboards use:
/// dots become underscores, the unit "s" a <c>_seconds</c> suffix, counters end in <c>_total</c>.
/// </summary>
public sealed class MetricsExposition : IDisposable
{
    /// <summary>Bucket bounds in seconds: from webhook acknowledgements (milliseconds) to actions (minutes).</summary>
    public static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly MeterListener _listener;

    public MetricsExposition(RemediationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var meter = metrics.Meter;
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && instrument is Counter<long> or Counter<double> or Histogram<double> or Histogram<long>)
                {
                    listener.EnableMeasurementEvents(instrument, new Bridge(factory, instrument));
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((Bridge)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((Bridge)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>This host's registry (what /metrics serves).</summary>
    public CollectorRegistry Registry { get; } = Prometheus.Metrics.NewCustomRegistry();

    /// <summary>remediation.action.duration with unit "s" → remediation_action_duration_seconds; annotations like "{alert}" add nothing.</summary>
    public static string MetricName(string name, string? unit)
    {
        ArgumentNullException.ThrowIfNull(name);
        var text = new StringBuilder(name.Length + 8);
        foreach (var c in name)
        {
            text.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or ':' ? c : '_');
        }
        var suffix = unit switch
        {
            "s" => "_seconds",
            "ms" => "_milliseconds",
            "By" => "_bytes",
            _ => "",
        };
        if (suffix.Length > 0 && !text.ToString().EndsWith(suffix, StringComparison.Ordinal))
        {
            text.Append(suffix);
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    /// <summary>
    /// One instrument's prometheus-net collector, declared when the instrument is published (so /metrics lists it before
    /// its first measurement) with the label names <see cref="RemediationMetrics.TagNames"/> gives it, in name order.
    /// </summary>
    private sealed class Bridge
    {
        private readonly string[] _tags;
        private readonly Collector _collector;

        public Bridge(IMetricFactory factory, Instrument instrument)
        {
            _tags = [.. (RemediationMetrics.TagNames.TryGetValue(instrument.Name, out var tags) ? tags : []).Order(StringComparer.Ordinal)];
            var labels = _tags.Select(t => MetricName(t, null)).ToArray();
            var name = MetricName(instrument.Name, instrument.Unit);
            var help = instrument.Description ?? "";
            _collector = instrument is Counter<long> or Counter<double>
                ? factory.CreateCounter(name.EndsWith("_total", StringComparison.Ordinal) ? name : name + "_total", help, labels)
                : factory.CreateHistogram(name, help, labels, new HistogramConfiguration { Buckets = SecondsBuckets });
        }

        public void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
        {
            var values = new string[_tags.Length];
            foreach (var (key, tag) in tags)
            {
                var i = Array.IndexOf(_tags, key);
                if (i >= 0)
                {
                    values[i] = Convert.ToString(tag, CultureInfo.InvariantCulture) ?? "";
                }
            }
            for (var i = 0; i < values.Length; i++)
            {
                values[i] ??= "";
            }
            switch (_collector)
            {
                case Counter counter when values.Length == 0:
                    counter.Inc(value);
                    break;
                case Counter counter:
                    counter.WithLabels(values).Inc(value);
                    break;
                case Histogram histogram when values.Length == 0:
                    histogram.Observe(value);
                    break;
                case Histogram histogram:
                    histogram.WithLabels(values).Observe(value);
                    break;
                default:
                    throw new InvalidOperationException("only counters and histograms are bridged");
            }
        }
    }
}
