using Microsoft.Extensions.Logging;
using Remediation.Incidents;
using Remediation.Storage;

namespace Remediation.Pipeline;

/// <summary>The writes of an answer: the conditions every leaving transition holds, and what each verb records.</summary>
public sealed partial class ApprovalService
{
    /// <summary>One answer as recorded: verb, who, when, comment, the signed link's nonce, and the digest and round answered.</summary>
    private sealed record Answer(string Verb, string By, DateTimeOffset At, string? Comment, string? Nonce, string Digest, int Round)
    {
        /// <summary>The insert-only row of this answer (one per round), written with the summary in one transaction.</summary>
        public IncidentStepRecord Step(IncidentRecord incident) => new()
        {
            PartitionKey = incident.IncidentId, RowKey = IncidentRowKeys.For($"answer-{Round}", incident.IncidentId), Worker = By, At = At,
            Action = incident.Action, Outcome = Verb, Reason = Comment, PlanDigest = Digest,
        };

        public string Text => $"{(Verb == ApproveVerb ? "approved" : "rejected")} by {By}{(Comment is null ? "" : $": {Comment}")}";
    }

    /// <summary>The row still awaits this very answer: the same plan digest, the same round, and its deadline not reached.</summary>
    private static bool Awaits(IncidentRecord row, Answer answer) =>
        row.State == IncidentState.AwaitingApproval && row.PlanDigest == answer.Digest && row.ApprovalRound == answer.Round
        && row.ApprovalDeadline is { } deadline && answer.At < deadline;

    private static void Record(IncidentRecord row, Answer answer) =>
        (row.AnswerVerb, row.AnsweredBy, row.AnsweredAt, row.AnswerComment, row.AnswerTokenNonce) = (answer.Verb, answer.By, answer.At, answer.Comment, answer.Nonce);

    /// <summary>Approved: Acting (the worker takes the intent and runs the recorded plan).</summary>
    private static bool Approve(IncidentRecord row, Answer answer)
    {
        Record(row, answer);
        (row.State, row.ActedAt, row.OutcomeReason) = (IncidentState.Acting, answer.At, answer.Text);
        return true;
    }

    private static IncidentFinish Rejection(IncidentRecord incident, Answer answer) =>
        new(FinishKind.Unapproved, IncidentState.Refused, answer.Text)
        {
            Steps = [answer.Step(incident)],
            Condition = row => Awaits(row, answer),
            Change = row => Record(row, answer),
        };

    /// <summary>Counts the approved remediation in flight until it is verified, and queues it; a queue that refuses is left to the sweep.</summary>
    private async Task QueueApprovedAsync(IncidentRecord incident, CancellationToken cancellationToken)
    {
        var now = timeProvider.GetUtcNow();
        try
        {
            await inFlight.AddInFlightAsync(incident.IncidentId, now + options.ActionLease + policy.Current.Limits.VerifyDeadline, cancellationToken).ConfigureAwait(false);
            await queue.EnqueueAsync(new WorkMessage([new WorkItem(incident.IncidentId, incident.TraceParent)]), cancellationToken).ConfigureAwait(false);
        }
        catch (TransientDependencyException ex)
        {
            LogQueueFailed(incident.IncidentId, ex.Message);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Incident {IncidentId} approved but not queued ({Error}); the sweep re-queues it")]
    private partial void LogQueueFailed(string incidentId, string error);
}
