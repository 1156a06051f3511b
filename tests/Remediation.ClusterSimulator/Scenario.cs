using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Remediation.ClusterSimulator.Json;

namespace Remediation.ClusterSimulator;

/// <summary>A cluster state to start from. See tests/scenarios/README.md for the file format.</summary>
public sealed class Scenario
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNameCaseInsensitive = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    public string? Name { get; set; }

    public string? Description { get; set; }

    public List<string> Namespaces { get; set; } = [];

    /// <summary>Image (exact, or prefix ending in '*') → behaviour.</summary>
    public Dictionary<string, ImageBehaviour> Behaviours { get; set; } = [];

    public List<ScenarioDeployment> Deployments { get; set; } = [];

    public List<ScenarioService> Services { get; set; } = [];

    public List<ScenarioHpa> Hpas { get; set; } = [];

    public List<TrafficSpec> Traffic { get; set; } = [];

    /// <summary>The call graph: each entry is one edge from a calling workload to a service it calls.</summary>
    public List<CallSpec> Calls { get; set; } = [];

    /// <summary>Raw manifests of any served kind (namespace defaults to "default").</summary>
    public List<JsonObject> Manifests { get; set; } = [];

    public List<JsonObject> VirtualServices { get; set; } = [];

    public List<JsonObject> DestinationRules { get; set; } = [];

    public List<JsonObject> HttpRoutes { get; set; } = [];

    public static Scenario Parse(string text)
    {
        var node = YamlJson.ParseJsonOrYaml(text) ?? throw new FormatException("scenario is empty");
        return node.Deserialize<Scenario>(Options) ?? throw new FormatException("scenario is empty");
    }

    public static Scenario LoadFile(string path) => Parse(File.ReadAllText(path));
}

public sealed class ScenarioDeployment
{
    public string Name { get; set; } = "";

    public string Namespace { get; set; } = "default";

    /// <summary>Labels of the deployment and its pod template; also the selector. Default: app=name.</summary>
    public Dictionary<string, string>? Labels { get; set; }

    public Dictionary<string, string>? Annotations { get; set; }

    public int Replicas { get; set; } = 1;

    public string Image { get; set; } = "";

    /// <summary>Container name; defaults to the app label (or deployment name).</summary>
    public string? ContainerName { get; set; }

    /// <summary>Container resources (requests/limits), as in a pod spec.</summary>
    public JsonObject? Resources { get; set; }

    public List<int>? Ports { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    public int? RevisionHistoryLimit { get; set; }

    public int? ProgressDeadlineSeconds { get; set; }

    /// <summary>Deployment spec.strategy, raw.</summary>
    public JsonObject? Strategy { get; set; }

    public string? ChangeCause { get; set; }

    /// <summary>When the deployment (its first revision) was created. Default 2h (with history) or 1h.</summary>
    [JsonConverter(typeof(DurationConverter))]
    public TimeSpan? CreatedAgo { get; set; }

    /// <summary>When the current revision was rolled out (only with history). Default 10m.</summary>
    [JsonConverter(typeof(DurationConverter))]
    public TimeSpan? RolledOutAgo { get; set; }

    /// <summary>Earlier revisions, oldest first; each inherits unspecified fields from the current one.</summary>
    public List<ScenarioRevision> History { get; set; } = [];
}

public sealed class ScenarioRevision
{
    public string? Image { get; set; }

    public JsonObject? Resources { get; set; }

    public Dictionary<string, string>? Env { get; set; }

    public string? ChangeCause { get; set; }

    /// <summary>When this revision was rolled out; default: spread between createdAgo and rolledOutAgo.</summary>
    [JsonConverter(typeof(DurationConverter))]
    public TimeSpan? Ago { get; set; }
}

public sealed class ScenarioService
{
    public string Name { get; set; } = "";

    public string Namespace { get; set; } = "default";

    /// <summary>Default: app=name.</summary>
    public Dictionary<string, string>? Selector { get; set; }

    public List<int>? Ports { get; set; }

    public int? TargetPort { get; set; }

    public Dictionary<string, string>? Labels { get; set; }
}

public sealed class ScenarioHpa
{
    public string Name { get; set; } = "";

    public string Namespace { get; set; } = "default";

    /// <summary>Target deployment name (default: name).</summary>
    public string? Target { get; set; }

    public int MinReplicas { get; set; } = 1;

    public int MaxReplicas { get; set; } = 1;

    public int? CurrentReplicas { get; set; }

    public int? DesiredReplicas { get; set; }

    public int TargetCpuUtilization { get; set; } = 80;

    public int? CurrentCpuUtilization { get; set; }
}

/// <summary>Traffic entering a service (optionally via an HTTPRoute's weighted backendRefs).</summary>
public sealed class TrafficSpec
{
    public string? Service { get; set; }

    public string? HttpRoute { get; set; }

    public string Namespace { get; set; } = "default";

    public double RequestsPerSecond { get; set; }

    public string Source { get; set; } = "istio-ingressgateway";

    public string? SourceNamespace { get; set; }
}

/// <summary>
/// One edge of the call graph: every request the workload <see cref="From"/> receives makes <see cref="Ratio"/> calls to the
/// service <see cref="To"/>; failed calls fail the caller's request, and the callee's latency adds to the caller's.
/// </summary>
public sealed class CallSpec
{
    /// <summary>The calling workload (Deployment name).</summary>
    public string From { get; set; } = "";

    public string Namespace { get; set; } = "default";

    /// <summary>The called Service.</summary>
    public string To { get; set; } = "";

    /// <summary>Default: the caller's namespace.</summary>
    public string? ToNamespace { get; set; }

    /// <summary>Calls to the service per request received (0..1: the share of requests that call it).</summary>
    public double Ratio { get; set; } = 1;

    /// <summary>http (failures are 503) or grpc (failures are response_code 200 with grpc_response_status 14).</summary>
    public string Protocol { get; set; } = "http";
}
