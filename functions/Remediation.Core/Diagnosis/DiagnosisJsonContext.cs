using System.Text.Json.Serialization;

namespace Remediation.Diagnosis;

/// <summary>
/// Source-generated JSON metadata for the diagnosis stored with each incident. Every folder's context uses the same options (camelCase, nulls left
/// out, enums as strings), so stored JSON reads back whichever folder wrote it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(DiagnosisResult))]
public sealed partial class DiagnosisJsonContext : JsonSerializerContext;
