using System.Text.Json.Serialization;

namespace Remediation.Alerts;

/// <summary>Alertmanager webhook payload, version 4 (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).</summary>
public sealed record AlertmanagerPayload
{
    [JsonPropertyName("version")] public string? Version { get; init; }
    [JsonPropertyName("groupKey")] public string? GroupKey { get; init; }
    [JsonPropertyName("truncatedAlerts")] public int TruncatedAlerts { get; init; }
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("receiver")] public string? Receiver { get; init; }
    [JsonPropertyName("groupLabels")] public Dictionary<string, string>? GroupLabels { get; init; }
    [JsonPropertyName("commonLabels")] public Dictionary<string, string>? CommonLabels { get; init; }
    [JsonPropertyName("commonAnnotations")] public Dictionary<string, string>? CommonAnnotations { get; init; }
    [JsonPropertyName("externalURL")] public string? ExternalUrl { get; init; }
    [JsonPropertyName("alerts")] public List<AlertmanagerAlert?>? Alerts { get; init; }
}

public sealed record AlertmanagerAlert
{
    [JsonPropertyName("status")] public string? Status { get; init; }
    [JsonPropertyName("labels")] public Dictionary<string, string>? Labels { get; init; }
    [JsonPropertyName("annotations")] public Dictionary<string, string>? Annotations { get; init; }
    [JsonPropertyName("startsAt")] public DateTimeOffset? StartsAt { get; init; }
    [JsonPropertyName("endsAt")] public DateTimeOffset? EndsAt { get; init; }
    [JsonPropertyName("generatorURL")] public string? GeneratorUrl { get; init; }
    [JsonPropertyName("fingerprint")] public string? Fingerprint { get; init; }
}
