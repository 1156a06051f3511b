using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace Remediation;

/// <summary>The product's own telemetry: one Meter and one ActivitySource, named "Remediation".</summary>
public sealed class RemediationMetrics : IDisposable
{
    public const string Name = "Remediation";
    public static readonly ActivitySource ActivitySource = new(Name);

    private readonly Meter _meter;
    private readonly Counter<long> _alertsReceived;
    private readonly Counter<long> _alertsDeduplicated;
    private readonly Counter<long> _actions;
    private readonly Counter<long> _decisions;
    private readonly Counter<long> _verifications;
    private readonly Histogram<double> _actionLatency;
    private readonly Histogram<double> _ingestLatency;
    private readonly Counter<long> _storageRequests;

    public RemediationMetrics(IMeterFactory? meterFactory = null)
    {
        _meter = meterFactory?.Create(Name) ?? new Meter(Name);
        _alertsReceived = _meter.CreateCounter<long>("remediation.alerts.received", "{alert}", "Alerts received, by source and status");
        _alertsDeduplicated = _meter.CreateCounter<long>("remediation.alerts.deduplicated", "{alert}", "Alert deliveries recognised as duplicates");
        _actions = _meter.CreateCounter<long>("remediation.actions", "{action}", "Actions by type and outcome");
        _decisions = _meter.CreateCounter<long>("remediation.decisions", "{decision}", "Decisions that took no action: Refused, Escalated, NoAction, Ignored");
        _verifications = _meter.CreateCounter<long>("remediation.verifications", "{verification}", "Verified outcomes of applied actions, by type and outcome");
        _actionLatency = _meter.CreateHistogram<double>("remediation.action.duration", "s", "Work item start to action outcome");
        _ingestLatency = _meter.CreateHistogram<double>("remediation.ingest.duration", "s", "Webhook received to acknowledged");
        _storageRequests = _meter.CreateCounter<long>("remediation.storage.requests", "{request}", "Requests sent to Table and Queue storage (retries included), by service and operation");
    }

    /// <summary>The tag names each instrument records (exporters that declare labels up front, e.g. for /metrics).</summary>
    public static IReadOnlyDictionary<string, string[]> TagNames { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["remediation.alerts.received"] = ["source", "status"],
        ["remediation.alerts.deduplicated"] = ["source"],
        ["remediation.actions"] = ["action", "outcome"],
        ["remediation.decisions"] = ["state"],
        ["remediation.verifications"] = ["action", "outcome"],
        ["remediation.action.duration"] = ["action"],
        ["remediation.ingest.duration"] = [],
        ["remediation.storage.requests"] = ["service", "operation"],
    };

    /// <summary>This instance's meter (one per host with <see cref="IMeterFactory"/>), for in-process exporters.</summary>
    public Meter Meter => _meter;

    public void RecordAlert(string source, string status) =>
        _alertsReceived.Add(1, new KeyValuePair<string, object?>("source", source), new KeyValuePair<string, object?>("status", status));

    public void RecordDuplicate(string source) => _alertsDeduplicated.Add(1, new KeyValuePair<string, object?>("source", source));

    public void RecordAction(string action, string outcome, TimeSpan elapsed)
    {
        _actions.Add(1, new KeyValuePair<string, object?>("action", action), new KeyValuePair<string, object?>("outcome", outcome));
        _actionLatency.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("action", action));
    }

    public void RecordVerification(string action, string outcome) =>
        _verifications.Add(1, new KeyValuePair<string, object?>("action", action), new KeyValuePair<string, object?>("outcome", outcome));

    public void RecordDecision(string state) => _decisions.Add(1, new KeyValuePair<string, object?>("state", state));

    public void RecordIngest(TimeSpan elapsed) => _ingestLatency.Record(elapsed.TotalSeconds);

    /// <summary>One request sent to storage (see <see cref="StorageRequestCounter"/>).</summary>
    public void RecordStorageRequest(string service, string operation) =>
        _storageRequests.Add(1, new KeyValuePair<string, object?>("service", service), new KeyValuePair<string, object?>("operation", operation));

    /// <summary>
    /// The producer span of one alert's ingest. Always an activity (a plain one when nothing listens), so the
    /// incident's TraceParent, carried by its work item, links the worker's spans and logs to the delivery.
    /// </summary>
    public static Activity StartIngestActivity(string incidentId, string alertName)
    {
        var activity = ActivitySource.StartActivity("remediation.ingest", ActivityKind.Producer) ?? new Activity("remediation.ingest").Start();
        activity.SetTag("remediation.incident_id", incidentId);
        activity.SetTag("remediation.alert", alertName);
        return activity;
    }

    /// <summary>A span for one pipeline stage (diagnose, decide, act) of an incident; null when nothing listens.</summary>
    public static Activity? StartStage(string stage, string incidentId)
    {
        var activity = ActivitySource.StartActivity("remediation." + stage);
        activity?.SetTag("remediation.incident_id", incidentId);
        return activity;
    }

    public void Dispose() => _meter.Dispose();
}
