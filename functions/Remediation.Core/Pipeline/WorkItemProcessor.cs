using System.Diagnostics;
using Microsoft.Extensions.Logging;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// The queue-trigger body shared by the Functions app and the standalone host: runs the pipeline for one
/// message, and records poisoned work items (5 failed dequeues) as Failed so none is silently dropped.
/// </summary>
public sealed partial class WorkItemProcessor(RemediationPipeline pipeline, IncidentStore store, Notifications.OutcomeNotifier notifier, TimeProvider timeProvider, ILogger<WorkItemProcessor> logger)
{
    public const int MaxDequeueCount = 5;

    public async Task<string> ProcessAsync(string message, CancellationToken cancellationToken = default)
    {
        var item = Parse(message);
        if (item is null)
        {
            return "Malformed";
        }
        using var activity = StartActivity("remediation.process", item);
        return await pipeline.ProcessAsync(item, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Records an incident whose work item was poisoned; the message itself stays in the poison queue.</summary>
    public async Task RecordPoisonAsync(string message, string reason, CancellationToken cancellationToken = default)
    {
        var item = Parse(message);
        if (item is null)
        {
            return;
        }
        var incident = await store.GetAsync(item.IncidentId, cancellationToken).ConfigureAwait(false);
        if (incident is null || IncidentStates.IsTerminal(incident.State))
        {
            return;
        }
        var now = timeProvider.GetUtcNow();
        await store.TryAddStepAsync(new IncidentStepRecord
        {
            PartitionKey = incident.IncidentId, RowKey = IncidentStepRecord.OutcomeKey, Worker = "poison", At = now,
            Action = incident.Action, Outcome = IncidentStates.Failed, Reason = reason,
        }, cancellationToken).ConfigureAwait(false);
        incident.State = IncidentStates.Failed;
        incident.Outcome = IncidentStates.Failed;
        incident.OutcomeReason = reason;
        incident.CompletedAt = now;
        await store.TryUpdateAsync(incident, force: true, cancellationToken).ConfigureAwait(false);
        await notifier.NotifyAsync(incident, cancellationToken).ConfigureAwait(false);
        LogPoisoned(incident.IncidentId, reason);
    }

    private WorkItem? Parse(string message)
    {
        try
        {
            return WorkItem.Parse(message);
        }
        catch (Exception ex) when (ex is FormatException or System.Text.Json.JsonException)
        {
            LogMalformed(ex.Message);
            return null;
        }
    }

    private static Activity? StartActivity(string name, WorkItem item)
    {
        ActivityContext.TryParse(item.TraceParent, null, out var parent);
        var activity = RemediationMetrics.ActivitySource.StartActivity(name, ActivityKind.Consumer, parent);
        activity?.SetTag("remediation.incident_id", item.IncidentId);
        return activity;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Malformed work item dropped: {Error}")]
    private partial void LogMalformed(string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Incident {IncidentId} marked Failed: {Reason}")]
    private partial void LogPoisoned(string incidentId, string reason);
}
