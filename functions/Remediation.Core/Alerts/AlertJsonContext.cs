using System.Text.Json.Serialization;

namespace Remediation.Alerts;

/// <summary>
/// Source-generated JSON metadata for the alert payloads read and the normalized alert stored with each incident. Every folder's context uses the same options (camelCase, nulls left
/// out, enums as strings), so stored JSON reads back whichever folder wrote it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(AlertmanagerPayload))]
[JsonSerializable(typeof(NormalizedAlert))]
public sealed partial class AlertJsonContext : JsonSerializerContext;
