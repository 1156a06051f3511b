using System.Text.Json.Serialization;
using Remediation.Alerts;
using Remediation.Storage;

namespace Remediation;

/// <summary>Source-generated JSON metadata for everything the product serializes.</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(AlertmanagerPayload))]
[JsonSerializable(typeof(NormalizedAlert))]
[JsonSerializable(typeof(WorkItem))]
[JsonSerializable(typeof(WorkMessageWire))]
[JsonSerializable(typeof(Remediation.Notifications.OutcomeEvent))]
[JsonSerializable(typeof(Remediation.Notifications.WebhookMessage))]
[JsonSerializable(typeof(Remediation.Notifications.ApprovalRequestedEvent))]
[JsonSerializable(typeof(Remediation.Notifications.ApprovalWebhookMessage))]
[JsonSerializable(typeof(Remediation.Actions.ActionPlan))]
[JsonSerializable(typeof(Remediation.Diagnosis.DiagnosisResult))]
[JsonSerializable(typeof(Dictionary<string, string>))]
[JsonSerializable(typeof(List<DateTimeOffset>))]
public sealed partial class RemediationJsonContext : JsonSerializerContext;
