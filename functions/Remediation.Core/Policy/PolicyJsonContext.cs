using System.Text.Json.Serialization;

namespace Remediation.Policy;

/// <summary>
/// Source-generated JSON metadata for the target ledger's action times. Every folder's context uses the same options (camelCase, nulls left
/// out, enums as strings), so stored JSON reads back whichever folder wrote it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(List<DateTimeOffset>))]
public sealed partial class PolicyJsonContext : JsonSerializerContext;
