using System.Text.Json.Nodes;
using Remediation.Actions;
using Remediation.Cluster;

namespace Remediation.Kubernetes;

/// <summary>Gateway API: the HTTPRoutes of a namespace whose backendRefs name one Service per version ("reviews-v2").</summary>
public sealed class GatewayHttpRouteRouter(IClusterReader reader) : IMeshRouter
{
    public async Task<IReadOnlyList<MeshRoutes>> GetRoutesAsync(string @namespace, string service, string workload, string degraded, IReadOnlySet<string> healthy, CancellationToken cancellationToken = default)
    {
        var result = new List<MeshRoutes>();
        foreach (var route in await reader.ListCustomObjectsAsync(CustomResource.HttpRoute, @namespace, cancellationToken).ConfigureAwait(false))
        {
            if (route["spec"]?["rules"] is JsonArray rules)
            {
                result.Add(new MeshRoutes(MutationKind.PatchHttpRoute, CustomResource.HttpRoute.Plural, route, "rules", rules,
                    rule => (rule["backendRefs"] as JsonArray)?.OfType<JsonObject>().Select(b => new RouteEntry(b, b["name"]?.GetValue<string>(), VersionOf(b["name"]?.GetValue<string>(), workload, degraded, healthy))) ?? []));
            }
        }
        return result;
    }

    private static string? VersionOf(string? name, string degradedWorkload, string degraded, IReadOnlySet<string> healthy)
    {
        if (name is null)
        {
            return null;
        }
        if (name == degradedWorkload || name.EndsWith("-" + degraded, StringComparison.Ordinal))
        {
            return degraded;
        }
        return healthy.FirstOrDefault(v => name.EndsWith("-" + v, StringComparison.Ordinal));
    }
}
