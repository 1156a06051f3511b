namespace Remediation.Approvals;

/// <summary>What an approval token allows: approving or rejecting, never both.</summary>
public enum ApprovalVerb
{
    Approve,
    Reject,
}

/// <summary>Why a token was not accepted. Every failure has its own reason, so a refusal can be logged precisely.</summary>
public enum ApprovalTokenFailure
{
    /// <summary>Not a token this product issues: wrong shape, version, encoding or length.</summary>
    Malformed,
    /// <summary>Its signature does not verify with any configured key (forged, altered, or signed with a retired key).</summary>
    BadSignature,
    /// <summary>Signed by us, but its expiry has passed.</summary>
    Expired,
    /// <summary>Signed by us for another incident.</summary>
    OtherIncident,
    /// <summary>Signed by us for this incident, but for a plan that is no longer the incident's plan.</summary>
    PlanChanged,
    /// <summary>Signed by us to approve when it is used to reject, or the other way round.</summary>
    WrongVerb,
}

/// <summary>The signed content of an approval token.</summary>
/// <param name="KeyId">The id of the key that signed it.</param>
/// <param name="PlanDigest">The <see cref="Approvals.PlanDigest"/> of the plan it approves or rejects.</param>
/// <param name="ExpiresAt">Whole seconds; the token is refused from this instant on.</param>
/// <param name="Nonce">Random, unique per token: recorded when the token is used, so a replay can be recognised.</param>
public sealed record ApprovalToken(string KeyId, string IncidentId, string PlanDigest, ApprovalVerb Verb, DateTimeOffset ExpiresAt, string Nonce);

/// <summary>The outcome of checking a token: the token when it is accepted, else the failure and a reason for the log.</summary>
public sealed record ApprovalTokenCheck
{
    public ApprovalToken? Token { get; private init; }
    public ApprovalTokenFailure? Failure { get; private init; }
    /// <summary>One line for the log and the refusal; never echoes the token.</summary>
    public string Reason { get; private init; } = "";

    public bool IsValid => Token is not null && Failure is null;

    internal static ApprovalTokenCheck Valid(ApprovalToken token) => new() { Token = token, Reason = "the token is valid" };

    internal static ApprovalTokenCheck Refused(ApprovalTokenFailure failure, string reason) => new() { Failure = failure, Reason = reason };
}
