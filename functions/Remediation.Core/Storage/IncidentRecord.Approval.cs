namespace Remediation.Storage;

/// <summary>
/// The approval columns of an incident's summary row (mode approve). The plan itself is <see cref="PlanJson"/>, recorded
/// with its prior state and verification when the incident starts waiting; these say which plan (its digest), until
/// when, under which rule, and how it was answered.
/// </summary>
public sealed partial class IncidentRecord
{
    /// <summary>The PlanDigest of the plan awaiting (or given) approval: tokens and answers are bound to it.</summary>
    public string? PlanDigest { get; set; }
    /// <summary>The policy rule that decided to act: its approvers are resolved again when the answer comes.</summary>
    public string? ApprovalRule { get; set; }
    public DateTimeOffset? ApprovalRequestedAt { get; set; }
    /// <summary>Past this instant the request is Escalated ("approval timed out") and no answer is accepted.</summary>
    public DateTimeOffset? ApprovalDeadline { get; set; }
    /// <summary>How many times the incident asked (1, then one more per re-plan after the cluster changed).</summary>
    public int ApprovalRound { get; set; }
    /// <summary>Why this request was made anew (what changed in the cluster since the previous plan); null on the first.</summary>
    public string? ApprovalReason { get; set; }
    /// <summary>approve or reject, once answered.</summary>
    public string? AnswerVerb { get; set; }
    /// <summary>The identity of the person who answered, as the host authenticated them.</summary>
    public string? AnsweredBy { get; set; }
    public DateTimeOffset? AnsweredAt { get; set; }
    public string? AnswerComment { get; set; }
    /// <summary>The nonce of the signed link used to answer (null: answered from the API, the CLI or the page).</summary>
    public string? AnswerTokenNonce { get; set; }
}

/// <summary>The plan digest an intent row was written for (approved plans: which approval the worker acts on).</summary>
public sealed partial class IncidentStepRecord
{
    public string? PlanDigest { get; set; }
}
