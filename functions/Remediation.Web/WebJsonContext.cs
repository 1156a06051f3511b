using System.Text.Json.Serialization;

namespace Remediation.Http;

/// <summary>Source-generated JSON metadata for what the HTTP endpoints read and write (the core's own options).</summary>
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
    UseStringEnumConverter = true)]
[JsonSerializable(typeof(ApiProblem))]
[JsonSerializable(typeof(IngestResponse))]
[JsonSerializable(typeof(SubscriptionValidationResponse))]
[JsonSerializable(typeof(List<IncidentView>))]
[JsonSerializable(typeof(IncidentListResponse))]
[JsonSerializable(typeof(IncidentView))]
[JsonSerializable(typeof(ApprovalRequestBody))]
[JsonSerializable(typeof(ApprovalResponse))]
[JsonSerializable(typeof(Remediation.ServiceGraph.ServiceGraphFinding))]
public sealed partial class WebJsonContext : JsonSerializerContext;
