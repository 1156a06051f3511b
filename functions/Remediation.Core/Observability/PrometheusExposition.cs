using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using System.Globalization;
using System.Text;

namespace Remediation;

/// <summary>
/// Collects the measurements of one <see cref="RemediationMetrics"/> instance with a <see cref="MeterListener"/> and
/// renders them in the Prometheus text exposition format (version 0.0.4), named as the OpenTelemetry → Prometheus
/// convention does: dots become underscores, the unit "s" becomes a <c>_seconds</c> suffix, counters end in
/// <c>_total</c>. Only this instance's meter is listened to, so several hosts in one process never mix their numbers.
/// </summary>
public sealed class PrometheusExposition : IDisposable
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    /// <summary>Bucket bounds in seconds: from webhook acknowledgements (milliseconds) to actions (minutes).</summary>
    public static readonly double[] SecondsBuckets = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

    private readonly MeterListener _listener;
    private readonly ConcurrentDictionary<Instrument, InstrumentSeries> _instruments = new();

    public PrometheusExposition(RemediationMetrics metrics)
    {
        ArgumentNullException.ThrowIfNull(metrics);
        var meter = metrics.Meter;
        _listener = new MeterListener
        {
            InstrumentPublished = (instrument, listener) =>
            {
                if (ReferenceEquals(instrument.Meter, meter) && SeriesFor(instrument) is { } series)
                {
                    _instruments[instrument] = series;
                    listener.EnableMeasurementEvents(instrument, series);
                }
            },
        };
        _listener.SetMeasurementEventCallback<long>((_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.SetMeasurementEventCallback<double>((_, value, tags, state) => ((InstrumentSeries)state!).Record(value, tags));
        _listener.Start();
    }

    /// <summary>The current values of every instrument, in the Prometheus text format.</summary>
    public string Render()
    {
        var text = new StringBuilder();
        foreach (var series in _instruments.Values.OrderBy(s => s.Name, StringComparer.Ordinal))
        {
            series.WriteTo(text);
        }
        return text.ToString();
    }

    public void Dispose() => _listener.Dispose();

    private static InstrumentSeries? SeriesFor(Instrument instrument)
    {
        var name = MetricName(instrument.Name, instrument.Unit);
        return instrument switch
        {
            Counter<long> or Counter<double> => new CounterSeries(name.EndsWith("_total", StringComparison.Ordinal) ? name : name + "_total", instrument.Description),
            Histogram<double> or Histogram<long> => new HistogramSeries(name, instrument.Description, SecondsBuckets),
            _ => null,
        };
    }

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

    /// <summary>Labels as {a="x",b="y"}, sorted by name, values escaped (backslash, quote, newline).</summary>
    private static string LabelsOf(ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        if (tags.Length == 0)
        {
            return "";
        }
        var sorted = tags.ToArray();
        Array.Sort(sorted, (a, b) => string.CompareOrdinal(a.Key, b.Key));
        var text = new StringBuilder("{");
        for (var i = 0; i < sorted.Length; i++)
        {
            if (i > 0)
            {
                text.Append(',');
            }
            text.Append(MetricName(sorted[i].Key, null)).Append("=\"");
            foreach (var c in Convert.ToString(sorted[i].Value, CultureInfo.InvariantCulture) ?? "")
            {
                text.Append(c switch { '\\' => "\\\\", '"' => "\\\"", '\n' => "\\n", _ => c.ToString() });
            }
            text.Append('"');
        }
        return text.Append('}').ToString();
    }

    private static string Number(double value) => value switch
    {
        double.PositiveInfinity => "+Inf",
        double.NegativeInfinity => "-Inf",
        _ when double.IsNaN(value) => "NaN",
        _ => value.ToString("R", CultureInfo.InvariantCulture),
    };

    private static string HelpText(string? description) =>
        (description ?? "").Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\n", "\\n", StringComparison.Ordinal);

    private abstract class InstrumentSeries(string name, string? description)
    {
        public string Name { get; } = name;
        protected string Help { get; } = HelpText(description);

        public abstract void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags);

        public abstract void WriteTo(StringBuilder text);
    }

    private sealed class CounterSeries(string name, string? description) : InstrumentSeries(name, description)
    {
        private readonly ConcurrentDictionary<string, double> _values = new(StringComparer.Ordinal);

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            _values.AddOrUpdate(LabelsOf(tags), value, (_, current) => current + value);

        public override void WriteTo(StringBuilder text)
        {
            text.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(" counter\n");
            foreach (var (labels, value) in _values.OrderBy(v => v.Key, StringComparer.Ordinal))
            {
                text.Append(Name).Append(labels).Append(' ').Append(Number(value)).Append('\n');
            }
        }
    }

    private sealed class HistogramSeries(string name, string? description, double[] bounds) : InstrumentSeries(name, description)
    {
        private readonly ConcurrentDictionary<string, Distribution> _values = new(StringComparer.Ordinal);

        public override void Record(double value, ReadOnlySpan<KeyValuePair<string, object?>> tags) =>
            _values.GetOrAdd(LabelsOf(tags), _ => new Distribution(bounds.Length)).Add(bounds, value);

        public override void WriteTo(StringBuilder text)
        {
            text.Append("# HELP ").Append(Name).Append(' ').Append(Help).Append('\n');
            text.Append("# TYPE ").Append(Name).Append(" histogram\n");
            foreach (var (labels, distribution) in _values.OrderBy(v => v.Key, StringComparer.Ordinal))
            {
                var (counts, sum, count) = distribution.Read();
                var inner = labels.Length == 0 ? "" : labels[1..^1] + ",";
                long cumulative = 0;
                for (var i = 0; i < bounds.Length; i++)
                {
                    cumulative += counts[i];
                    text.Append(Name).Append("_bucket{").Append(inner).Append("le=\"").Append(Number(bounds[i])).Append("\"} ")
                        .Append(cumulative.ToString(CultureInfo.InvariantCulture)).Append('\n');
                }
                text.Append(Name).Append("_bucket{").Append(inner).Append("le=\"+Inf\"} ").Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
                text.Append(Name).Append("_sum").Append(labels).Append(' ').Append(Number(sum)).Append('\n');
                text.Append(Name).Append("_count").Append(labels).Append(' ').Append(count.ToString(CultureInfo.InvariantCulture)).Append('\n');
            }
        }
    }

    /// <summary>Per-bucket counts (not cumulative), sum and count of one label set.</summary>
    private sealed class Distribution(int buckets)
    {
        private readonly Lock _gate = new();
        private readonly long[] _counts = new long[buckets];
        private double _sum;
        private long _count;

        public void Add(double[] bounds, double value)
        {
            var index = Array.FindIndex(bounds, b => value <= b);
            lock (_gate)
            {
                if (index >= 0)
                {
                    _counts[index]++;
                }
                _sum += value;
                _count++;
            }
        }

        public (long[] Counts, double Sum, long Count) Read()
        {
            lock (_gate)
            {
                return ((long[])_counts.Clone(), _sum, _count);
            }
        }
    }
}
