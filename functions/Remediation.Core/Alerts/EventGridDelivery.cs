namespace Remediation.Alerts;

/// <summary>What an Event Grid / CloudEvents delivery asks of us.</summary>
public sealed record EventGridDelivery
{
    /// <summary>Set when the delivery is Event Grid's SubscriptionValidationEvent: answer {"validationResponse": code}.</summary>
    public string? ValidationCode { get; init; }
    public IReadOnlyList<NormalizedAlert> Alerts { get; init; } = [];
    /// <summary>Event Grid housekeeping events acknowledged without an incident (SubscriptionDeletedEvent).</summary>
    public int Ignored { get; init; }
}

/// <summary>The CloudEvents attributes of a binary-mode request (ce-* headers; Content-Type is datacontenttype).</summary>
public sealed record CloudEventHeaders(string? SpecVersion, string? Id, string? Source, string? Type, string? Time, string? Subject, string? ContentType);
