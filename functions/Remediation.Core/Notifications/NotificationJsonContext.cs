using System.Text.Json.Serialization;

namespace Remediation.Notifications;

/// <summary>
/// Source-generated JSON metadata for the outcome events and webhook messages sent. Every folder's context uses the same options (camelCase, nulls left
/// out, enums as strings), so stored JSON reads back whichever folder wrote it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(OutcomeEvent))]
[JsonSerializable(typeof(WebhookMessage))]
[JsonSerializable(typeof(ApprovalRequestedEvent))]
[JsonSerializable(typeof(ApprovalWebhookMessage))]
public sealed partial class NotificationJsonContext : JsonSerializerContext;
