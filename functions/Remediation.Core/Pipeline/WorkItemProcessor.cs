using System.Diagnostics;
using System.Runtime.ExceptionServices;
using Microsoft.Extensions.Logging;
using Remediation.Incidents;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>
/// The queue-trigger body shared by the Functions app and the standalone host: runs the pipeline for one
/// message, and records poisoned work items (5 failed dequeues) as Failed so none is silently dropped.
/// </summary>
public sealed partial class WorkItemProcessor(RemediationPipeline pipeline, Verification.RemediationVerifier verifier, IIncidentStore store, IncidentRecorder recorder, ILogger<WorkItemProcessor> logger)
{
    public const int MaxDequeueCount = 5;

    /// <summary>
    /// Runs the pipeline for each item of the message, one after another, and returns their states. Every item is
    /// attempted even when one fails (except on a transient storage or cluster fault, which stops the message at once);
    /// then the failure is thrown, so the message is retried (the items already done are terminal and cost one read on
    /// the retry) and, after <see cref="MaxDequeueCount"/> failures, poisoned. <paramref name="dequeueCount"/> is the
    /// queue's count of this delivery (1 the first; 0 when unknown): the items' claim copies are used on the first only.
    /// </summary>
    public async Task<IReadOnlyList<WorkResult>> ProcessAsync(string message, long dequeueCount, CancellationToken cancellationToken = default)
    {
        var parsed = Parse(message);
        if (parsed is null)
        {
            return [WorkResult.Malformed];
        }
        var states = new List<WorkResult>(parsed.Items.Count);
        List<Exception>? failures = null;
        foreach (var delivered in parsed.Items)
        {
            // A retried message's items may have been processed (or changed) since they were claimed: read their rows.
            var item = dequeueCount == 1 || delivered.Claim is null ? delivered : delivered with { Claim = null };
            var verify = item.Verify == true;
            using var activity = StartActivity(verify ? "remediation.verify" : "remediation.process", item);
            try
            {
                states.Add(verify
                    ? await verifier.VerifyScheduledAsync(item.IncidentId, cancellationToken).ConfigureAwait(false)
                    : await pipeline.ProcessAsync(item, cancellationToken).ConfigureAwait(false));
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
                LogItemFailed(item.IncidentId, ex.Message);
                if (ex is TransientDependencyException)
                {
                    // Storage or the cluster is unavailable: the next items would fail the same way. Retry the message later.
                    throw;
                }
                (failures ??= []).Add(ex);
                states.Add(WorkResult.Failed);
            }
        }
        if (failures is [var only])
        {
            ExceptionDispatchInfo.Capture(only).Throw();
        }
        if (failures is { Count: > 1 })
        {
            throw new AggregateException($"{failures.Count} of {parsed.Items.Count} work items failed", failures);
        }
        return states;
    }

    /// <summary>Records the incidents of a poisoned message as Failed; the message itself stays in the poison queue.</summary>
    public async Task RecordPoisonAsync(string message, string reason, CancellationToken cancellationToken = default)
    {
        var parsed = Parse(message);
        if (parsed is null)
        {
            return;
        }
        foreach (var item in parsed.Items)
        {
            await RecordPoisonAsync(item, reason, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// Records one poisoned incident as Failed through the recorder, conditional on the row as read (re-read on a lost
    /// race): a resolution recorded meanwhile is kept, an incident concluded meanwhile (e.g. Succeeded) is not moved back,
    /// and the failure counts toward the target's circuit breaker as a failed remediation does.
    /// </summary>
    private async Task RecordPoisonAsync(WorkItem item, string reason, CancellationToken cancellationToken)
    {
        var incident = await store.GetAsync(item.IncidentId, cancellationToken).ConfigureAwait(false);
        if (incident is null || IncidentLifecycle.IsTerminal(incident.State))
        {
            return;
        }
        var recorded = await recorder.FinishAsync(incident, new IncidentFinish(FinishKind.Poisoned, IncidentState.Failed, reason), cancellationToken).ConfigureAwait(false);
        if (recorded.Written)
        {
            LogPoisoned(incident.IncidentId, reason);
        }
    }

    private WorkMessage? Parse(string message)
    {
        try
        {
            return WorkMessage.Parse(message);
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

    [LoggerMessage(Level = LogLevel.Warning, Message = "Work item for incident {IncidentId} failed; the message will be retried: {Error}")]
    private partial void LogItemFailed(string incidentId, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Malformed work item dropped: {Error}")]
    private partial void LogMalformed(string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Incident {IncidentId} marked Failed: {Reason}")]
    private partial void LogPoisoned(string incidentId, string reason);
}
