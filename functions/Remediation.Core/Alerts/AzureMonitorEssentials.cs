using System.Text.Json;
using static Remediation.Alerts.AlertJson;

namespace Remediation.Alerts;

/// <summary>
/// The signal-independent part of an Azure Monitor common-schema alert (data.essentials): identity, rule, severity,
/// condition, times and targets. Cost Management (budget) alerts send null alertRule, severity and signalType
/// (Microsoft's own samples): a missing or null essential takes its default; a present one must be one the schema knows.
/// </summary>
internal sealed record AzureMonitorEssentials(
    JsonElement Element,
    string Path,
    string AlertId,
    string? AlertRule,
    string? Severity,
    string? SignalType,
    AlertStatus Status,
    string? MonitoringService,
    DateTimeOffset FiredAt,
    DateTimeOffset? ResolvedAt,
    IReadOnlyList<string> TargetIds,
    IReadOnlyList<string> ConfigurationItems)
{
    private static readonly string[] Severities = ["Sev0", "Sev1", "Sev2", "Sev3", "Sev4"];
    private static readonly string[] SignalTypes = ["Metric", "Log", "Activity Log"];

    public static AzureMonitorEssentials Read(JsonElement essentials, string path)
    {
        var alertId = RequiredString(essentials, "alertId", path);
        var alertRule = NonEmpty(OptionalString(essentials, "alertRule", path));
        var severity = NonEmpty(OptionalString(essentials, "severity", path));
        if (severity is not null && !Severities.Contains(severity, StringComparer.Ordinal))
        {
            throw new AlertParseException($"{path}.severity", $"unknown severity '{severity}'; expected Sev0, Sev1, Sev2, Sev3 or Sev4");
        }
        var signalType = NonEmpty(OptionalString(essentials, "signalType", path));
        if (signalType is not null && !SignalTypes.Contains(signalType, StringComparer.Ordinal))
        {
            throw new AlertParseException($"{path}.signalType", $"unknown signalType '{signalType}'; expected \"Metric\", \"Log\" or \"Activity Log\"");
        }
        var status = NonEmpty(OptionalString(essentials, "monitorCondition", path)) switch
        {
            null or "Fired" => AlertStatus.Firing,
            "Resolved" => AlertStatus.Resolved,
            var other => throw new AlertParseException($"{path}.monitorCondition", $"unknown monitorCondition '{other}'; expected \"Fired\" or \"Resolved\""),
        };
        return new AzureMonitorEssentials(
            essentials,
            path,
            alertId,
            alertRule,
            severity,
            signalType,
            status,
            OptionalString(essentials, "monitoringService", path),
            RequiredTime(essentials, "firedDateTime", path),
            OptionalTime(essentials, "resolvedDateTime", path),
            OptionalStrings(essentials, "alertTargetIDs", path),
            OptionalStrings(essentials, "configurationItems", path));
    }

    /// <summary>Adds the alert's name, rule and severity to its labels and the essentials worth keeping to its annotations.</summary>
    public void Describe(string name, Dictionary<string, string> labels, Dictionary<string, string> annotations)
    {
        labels["alertname"] = name;
        if (AlertRule is not null)
        {
            labels[AzureMonitorNormalizer.AzureAlertRuleLabel] = AlertRule;
        }
        if (Severity is not null)
        {
            labels["severity"] = Severity;
        }
        annotations["alertId"] = AlertId;
        if (SignalType is not null)
        {
            annotations["signalType"] = SignalType;
        }
        if (MonitoringService is not null)
        {
            annotations["monitoringService"] = MonitoringService;
        }
        if (OptionalString(Element, "description", Path) is { Length: > 0 } description)
        {
            annotations.TryAdd("description", description);
        }
        if (TargetIds.Count > 0)
        {
            annotations["alertTargetIDs"] = string.Join(",", TargetIds);
        }
        if (ConfigurationItems.Count > 0)
        {
            annotations["configurationItems"] = string.Join(",", ConfigurationItems);
        }
    }
}
