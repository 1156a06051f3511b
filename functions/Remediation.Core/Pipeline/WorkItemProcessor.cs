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
    /// Items of one message processed at once, each on its own workload (see <see cref="ProcessAsync"/>). A storm's
    /// delivery of 50 alerts on 50 workloads is 2 messages of 25: one after another, a workload's first incident waits for
    /// up to 24 others before it is acted on, and meanwhile every later alert on it is claimed and queued (to be refused by
    /// the worker, a write more each) instead of refused at its claim.
    /// </summary>
    public const int MaxConcurrentItems = 4;

    /// <summary>
    /// Runs the pipeline for each item of the message and returns their states, in the message's order. Items on the same
    /// workload (as the alert its claim copy carries names it) run one after another, in order, so the second of them is
    /// decided knowing what the first did (refused from memory, no cluster read); items on different workloads run up to
    /// <see cref="MaxConcurrentItems"/> at once. Items without a claim copy (a retried message, a verification) share one
    /// lane. Every item is attempted even when one fails; a transient storage or cluster fault stops the items not yet
    /// started and is thrown once the started ones end (the next items would fail the same way: retry the message later).
    /// Another failure is thrown after all items, so the message is retried (the items already done are terminal and cost
    /// one read on the retry) and, after <see cref="MaxDequeueCount"/> failures, poisoned. <paramref name="dequeueCount"/>
    /// is the queue's count of this delivery (1 the first; 0 when unknown): the items' claim copies are used on the first only.
    /// </summary>
    public async Task<IReadOnlyList<WorkResult>> ProcessAsync(string message, long dequeueCount, CancellationToken cancellationToken = default)
    {
        var parsed = Parse(message);
        if (parsed is null)
        {
            return [WorkResult.Malformed];
        }
        // A retried message's items may have been processed (or changed) since they were claimed: read their rows.
        var items = parsed.Items.Select(delivered => dequeueCount == 1 || delivered.Claim is null ? delivered : delivered with { Claim = null }).ToList();
        var states = new WorkResult[items.Count];
        var failures = new Exception?[items.Count];
        var stopped = 0;
        await OrderedLanes.RunAsync(items.Count, i => LaneOf(items[i]), MaxConcurrentItems, async i =>
        {
            if (Volatile.Read(ref stopped) == 0)
            {
                (states[i], failures[i]) = await ProcessItemAsync(items[i], cancellationToken).ConfigureAwait(false);
                if (failures[i] is TransientDependencyException transient)
                {
                    Volatile.Write(ref stopped, 1);
                    ExceptionDispatchInfo.Capture(transient).Throw();
                }
            }
        }, cancellationToken).ConfigureAwait(false);
        var failed = failures.OfType<Exception>().ToList();
        if (failed is [var only])
        {
            ExceptionDispatchInfo.Capture(only).Throw();
        }
        if (failed.Count > 1)
        {
            throw new AggregateException($"{failed.Count} of {items.Count} work items failed", failed);
        }
        return states;
    }

    /// <summary>
    /// The lane of an item: the workload its claim copy's alert names (namespace/name), or one shared lane when it carries
    /// no usable copy. Distinct pods of one owner are distinct lanes; they meet at the owner's reservation, which is
    /// conditional, as items of concurrent messages do.
    /// </summary>
    private static string LaneOf(WorkItem item) =>
        item.Verify != true && Ingest.AlertIngestor.ClaimedRecord(item) is { Namespace: { } ns, Workload: { } name }
            ? string.Concat(ns, "/", name)
            : "";

    private async Task<(WorkResult, Exception?)> ProcessItemAsync(WorkItem item, CancellationToken cancellationToken)
    {
        var verify = item.Verify == true;
        using var activity = StartActivity(verify ? "remediation.verify" : "remediation.process", item);
        try
        {
            return (verify
                ? await verifier.VerifyScheduledAsync(item.IncidentId, cancellationToken).ConfigureAwait(false)
                : await pipeline.ProcessAsync(item, cancellationToken).ConfigureAwait(false), null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            activity?.SetStatus(ActivityStatusCode.Error, ex.Message);
            LogItemFailed(item.IncidentId, ex.Message);
            return (WorkResult.Failed, ex);
        }
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
