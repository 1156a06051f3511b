namespace Remediation.Alerts;

/// <summary>Where an alert came from; part of the incident identity.</summary>
public enum AlertSource
{
    Alertmanager,
    AzureMonitor,
    EventGrid,
}

public enum AlertStatus
{
    Firing,
    Resolved,
}

/// <summary>The Kubernetes workload an alert is about.</summary>
public sealed record WorkloadTarget(string Namespace, string Name, string Kind = "Deployment")
{
    public override string ToString() => $"{Namespace}/{Name}";
}

/// <summary>One alert in the product's own model, whatever its source.</summary>
public sealed record NormalizedAlert
{
    public required AlertSource Source { get; init; }
    public required string Name { get; init; }
    public required AlertStatus Status { get; init; }
    /// <summary>Identity of the alert series at its source (Alertmanager fingerprint, Azure alertId).</summary>
    public required string Fingerprint { get; init; }
    public required DateTimeOffset StartsAt { get; init; }
    public DateTimeOffset? EndsAt { get; init; }
    public string? Severity { get; init; }
    public IReadOnlyDictionary<string, string> Labels { get; init; } = new Dictionary<string, string>();
    public IReadOnlyDictionary<string, string> Annotations { get; init; } = new Dictionary<string, string>();
    public string? GeneratorUrl { get; init; }
    /// <summary>The workload the alert is about, or null when the labels do not name one.</summary>
    public WorkloadTarget? Target { get; init; }
    /// <summary>Why <see cref="Target"/> is null.</summary>
    public string? TargetProblem { get; init; }

    /// <summary>The incident this alert belongs to: one per alert series and start time.</summary>
    public string IncidentId => IncidentIdentity.For(Source, Fingerprint, StartsAt);
}
