using System.Text.Json.Nodes;

namespace Remediation.Cluster;

/// <summary>One weighted destination of a route: its name (subset or backend), the version it serves (null when unknown) and its weight.</summary>
public sealed record RouteEntry(JsonObject Node, string? Name, string? Version)
{
    public int Weight
    {
        get => Node["weight"]?.GetValue<int>() ?? 0;
        set => Node["weight"] = value;
    }
}

/// <summary>
/// The weighted routes of one routing object (an Istio VirtualService, a Gateway API HTTPRoute) for a service. The
/// router reads them (<see cref="IMeshRouter.GetRoutesAsync"/>); <see cref="SetRoutes"/> makes the patch that writes new
/// weights and keeps the original routes in an annotation, so <see cref="Restore"/> can put them back.
/// </summary>
public sealed record MeshRoutes(MutationKind Kind, string Plural, JsonObject Object, string Field, JsonArray Rules, Func<JsonObject, IEnumerable<RouteEntry>> EntriesOf)
{
    public const string OriginalRoutesAnnotation = "remediation.io/original-routes";

    public string Name => Object["metadata"]?["name"]?.GetValue<string>() ?? "";
    public string Namespace => Object["metadata"]?["namespace"]?.GetValue<string>() ?? "";
    public string? ResourceVersion => Object["metadata"]?["resourceVersion"]?.GetValue<string>();

    /// <summary>The routes as they were before any remediation (a second shift must still restore the first original).</summary>
    public JsonArray Original => Object["metadata"]?["annotations"]?[OriginalRoutesAnnotation]?.GetValue<string>() is { } kept
        ? JsonNode.Parse(kept)!.AsArray()
        : Rules;

    /// <summary>The mutation that writes <paramref name="shifted"/> (merge patch with the resourceVersion precondition).</summary>
    public Mutation SetRoutes(JsonArray shifted)
    {
        ArgumentNullException.ThrowIfNull(shifted);
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = ResourceVersion, ["annotations"] = new JsonObject { [OriginalRoutesAnnotation] = Original.ToJsonString() } },
            ["spec"] = new JsonObject { [Field] = shifted.DeepClone() },
        };
        return new Mutation
        {
            Kind = Kind, Namespace = Namespace, Name = Name, Patch = patch.ToJsonString(), ResourceVersion = ResourceVersion,
            Description = $"{Plural}/{Name}: {Weights(Rules)} → {Weights(shifted)}",
        };
    }

    /// <summary>The mutation that puts the original routes back and drops the annotation.</summary>
    public Mutation Restore()
    {
        var original = Original;
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [OriginalRoutesAnnotation] = null } },
            ["spec"] = new JsonObject { [Field] = original.DeepClone() },
        };
        return new Mutation { Kind = Kind, Namespace = Namespace, Name = Name, Patch = patch.ToJsonString(), Description = $"{Plural}/{Name}: restore {Weights(original)}" };
    }

    public string Weights(JsonArray rules) => string.Join(" | ", rules.OfType<JsonObject>().Select(rule =>
        string.Join(",", EntriesOf(rule).Select(e => $"{e.Name}={e.Weight}"))));
}

/// <summary>A traffic router: reads the weighted routes of a service. One adapter per routing API (flagger's router shape).</summary>
public interface IMeshRouter
{
    /// <param name="workload">The degraded workload (a backend named after it serves the degraded version).</param>
    Task<IReadOnlyList<MeshRoutes>> GetRoutesAsync(string @namespace, string service, string workload, string degraded, IReadOnlySet<string> healthy, CancellationToken cancellationToken = default);
}
