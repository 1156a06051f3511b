using System.Text.Json.Nodes;
using Remediation.Actions;
using Remediation.Cluster;

namespace Remediation.Kubernetes;

/// <summary>Istio: the VirtualServices that route a service, with each destination's subset mapped to its version label through the DestinationRules.</summary>
public sealed class IstioVirtualServiceRouter(IClusterReader reader) : IMeshRouter
{
    public async Task<IReadOnlyList<MeshRoutes>> GetRoutesAsync(string @namespace, string service, string workload, string degraded, IReadOnlySet<string> healthy, CancellationToken cancellationToken = default)
    {
        var subsets = await SubsetVersionsAsync(@namespace, service, cancellationToken).ConfigureAwait(false);
        var result = new List<MeshRoutes>();
        foreach (var vs in await reader.ListCustomObjectsAsync(CustomResource.VirtualService, @namespace, cancellationToken).ConfigureAwait(false))
        {
            if (vs["spec"]?["http"] is JsonArray http && RoutesService(vs, service))
            {
                result.Add(new MeshRoutes(MutationKind.PatchVirtualService, CustomResource.VirtualService.Plural, vs, "http", http,
                    rule => (rule["route"] as JsonArray)?.OfType<JsonObject>().Select(d => Entry(d, d["destination"]?["subset"]?.GetValue<string>(), subsets)) ?? []));
            }
        }
        return result;
    }

    private async Task<Dictionary<string, string>> SubsetVersionsAsync(string ns, string service, CancellationToken cancellationToken)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var rule in await reader.ListCustomObjectsAsync(CustomResource.DestinationRule, ns, cancellationToken).ConfigureAwait(false))
        {
            if (ShortHost(rule["spec"]?["host"]?.GetValue<string>()) != service || rule["spec"]?["subsets"] is not JsonArray subsets)
            {
                continue;
            }
            foreach (var subset in subsets.OfType<JsonObject>())
            {
                if (subset["name"]?.GetValue<string>() is { } name)
                {
                    map[name] = subset["labels"]?["version"]?.GetValue<string>() ?? name;
                }
            }
        }
        return map;
    }

    private static RouteEntry Entry(JsonObject destination, string? subset, Dictionary<string, string> subsets) =>
        new(destination, subset, subset is null ? null : subsets.GetValueOrDefault(subset, subset));

    private static bool RoutesService(JsonObject vs, string service) =>
        (vs["spec"]?["hosts"] as JsonArray)?.Any(h => ShortHost(h?.GetValue<string>()) == service) == true
        || (vs["spec"]?["http"] as JsonArray)?.OfType<JsonObject>().SelectMany(r => (r["route"] as JsonArray)?.OfType<JsonObject>() ?? [])
            .Any(d => ShortHost(d["destination"]?["host"]?.GetValue<string>()) == service) == true;

    private static string? ShortHost(string? host) => host?.Split('.')[0];
}
