using System.Text.Json.Serialization;

namespace Remediation.Storage;

/// <summary>
/// Source-generated JSON metadata for the work queue's messages. Every folder's context uses the same options (camelCase, nulls left
/// out, enums as strings), so stored JSON reads back whichever folder wrote it.
/// </summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(WorkItem))]
[JsonSerializable(typeof(WorkMessageWire))]
public sealed partial class StorageJsonContext : JsonSerializerContext;
