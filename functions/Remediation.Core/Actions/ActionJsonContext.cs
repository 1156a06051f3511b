using System.Text.Json.Serialization;

namespace Remediation.Actions;

/// <summary>
/// Source-generated JSON metadata for the action plan stored with each intent and incident. Every folder's context uses the same options (camelCase, nulls left
/// out, enums as strings), so stored JSON reads back whichever folder wrote it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ActionPlan))]
public sealed partial class ActionJsonContext : JsonSerializerContext;
