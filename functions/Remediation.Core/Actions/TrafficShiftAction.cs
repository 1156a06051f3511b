using System.Globalization;
using System.Text.Json.Nodes;
using Remediation.Cluster;
using Remediation.Kubernetes;
using Remediation.Policy;

namespace Remediation.Actions;

/// <summary>
/// Moves traffic away from a degraded version subset toward the versions diagnosed healthy, in the Istio
/// VirtualService and/or Gateway API HTTPRoute that route the service. Never shifts toward a version not
/// diagnosed healthy. The original routes are kept in an annotation so they can be restored, and the plan
/// carries the revert. Parameters: weight (what the degraded subset keeps, default 0).
/// </summary>
public sealed class TrafficShiftAction(IClusterReader reader) : IRemediationAction
{
    public const string OriginalRoutesAnnotation = "remediation.io/original-routes";

    public string Name => ActionNames.TrafficShift;

    public async Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = context.Target;
        var diagnosis = context.Diagnosis;
        var keep = context.Parameters.TryGetValue("weight", out var w)
            ? int.TryParse(w, NumberStyles.Integer, CultureInfo.InvariantCulture, out var parsed) && parsed is >= 0 and < 100 ? parsed : throw new ActionNotApplicableException($"parameter 'weight' must be 0-99, not '{w}'")
            : 0;
        var deployment = await reader.RequireDeploymentAsync(target, cancellationToken).ConfigureAwait(false);
        IReadOnlyDictionary<string, string> labels = new Dictionary<string, string>(deployment.Spec.Template.Metadata?.Labels ?? new Dictionary<string, string>(), StringComparer.Ordinal);
        var degraded = diagnosis.DegradedVersion ?? labels.GetValueOrDefault("version")
            ?? throw new ActionNotApplicableException($"{target} has no version label and the diagnosis names no degraded version");
        var healthy = diagnosis.HealthyVersions.Where(v => v != degraded).ToHashSet(StringComparer.Ordinal);
        if (healthy.Count == 0)
        {
            throw new ActionNotApplicableException($"no version of {target} is diagnosed healthy; shifting traffic would move it onto an unhealthy subset");
        }
        var service = labels.GetValueOrDefault("app") ?? labels.GetValueOrDefault("app.kubernetes.io/name") ?? target.Name;

        var mutations = new List<Mutation>();
        var reverts = new List<Mutation>();
        var prior = new JsonObject { ["service"] = service, ["degradedVersion"] = degraded, ["healthyVersions"] = new JsonArray(healthy.Order().Select(v => (JsonNode)v!).ToArray()) };

        var subsets = await SubsetVersionsAsync(target.Namespace, service, cancellationToken).ConfigureAwait(false);
        foreach (var vs in await reader.ListCustomObjectsAsync(CustomResource.VirtualService, target.Namespace, cancellationToken).ConfigureAwait(false))
        {
            if (vs["spec"]?["http"] is not JsonArray http || !RoutesService(vs, service))
            {
                continue;
            }
            var shifted = http.DeepClone().AsArray();
            var changed = false;
            foreach (var route in shifted.OfType<JsonObject>())
            {
                if (route["route"] is JsonArray destinations)
                {
                    changed |= Shift(destinations, d => VersionOfSubset(d["destination"]?["subset"]?.GetValue<string>(), subsets), degraded, healthy, keep);
                }
            }
            if (changed)
            {
                AddMutations(MutationKind.PatchVirtualService, vs, "http", http, shifted, mutations, reverts, prior, "virtualservices");
            }
        }
        foreach (var route in await reader.ListCustomObjectsAsync(CustomResource.HttpRoute, target.Namespace, cancellationToken).ConfigureAwait(false))
        {
            if (route["spec"]?["rules"] is not JsonArray rules)
            {
                continue;
            }
            var shifted = rules.DeepClone().AsArray();
            var changed = false;
            foreach (var rule in shifted.OfType<JsonObject>())
            {
                if (rule["backendRefs"] is JsonArray backends)
                {
                    changed |= Shift(backends, b => VersionOfBackend(b["name"]?.GetValue<string>(), target.Name, degraded, healthy), degraded, healthy, keep);
                }
            }
            if (changed)
            {
                AddMutations(MutationKind.PatchHttpRoute, route, "rules", rules, shifted, mutations, reverts, prior, "httproutes");
            }
        }
        if (mutations.Count == 0)
        {
            throw new ActionNotApplicableException($"no VirtualService or HTTPRoute in {target.Namespace} splits weighted traffic of '{service}' between {degraded} and a healthy version");
        }
        return new ActionPlan
        {
            Action = Name,
            Target = target,
            Summary = $"shift traffic of {service} away from {degraded} (keeps weight {keep}) toward {string.Join(",", healthy.Order())} in {string.Join(", ", mutations.Select(m => $"{m.Kind switch { MutationKind.PatchVirtualService => "virtualservice", _ => "httproute" }}/{m.Name}"))}",
            Mutations = mutations,
            Revert = reverts,
            PriorState = prior,
            Verify = new VerificationSpec { MaxErrorRatio = context.Limits.HealthyErrorRatio, MetricsService = service },
        };
    }

    private static void AddMutations(MutationKind kind, JsonObject obj, string field, JsonArray original, JsonArray shifted,
        List<Mutation> mutations, List<Mutation> reverts, JsonObject prior, string plural)
    {
        var name = obj["metadata"]?["name"]?.GetValue<string>() ?? "";
        var ns = obj["metadata"]?["namespace"]?.GetValue<string>() ?? "";
        var resourceVersion = obj["metadata"]?["resourceVersion"]?.GetValue<string>();
        // Keep the first original: a second shift must still restore what was there before any remediation.
        var existing = obj["metadata"]?["annotations"]?[OriginalRoutesAnnotation]?.GetValue<string>();
        var originalText = existing ?? original.ToJsonString();
        var patch = new JsonObject
        {
            ["metadata"] = new JsonObject { ["resourceVersion"] = resourceVersion, ["annotations"] = new JsonObject { [OriginalRoutesAnnotation] = originalText } },
            ["spec"] = new JsonObject { [field] = shifted },
        };
        mutations.Add(new Mutation { Kind = kind, Namespace = ns, Name = name, Patch = patch.ToJsonString(), ResourceVersion = resourceVersion, Description = $"{plural}/{name}: {Weights(original)} → {Weights(shifted)}" });
        var revert = new JsonObject
        {
            ["metadata"] = new JsonObject { ["annotations"] = new JsonObject { [OriginalRoutesAnnotation] = null } },
            ["spec"] = new JsonObject { [field] = JsonNode.Parse(originalText) },
        };
        reverts.Add(new Mutation { Kind = kind, Namespace = ns, Name = name, Patch = revert.ToJsonString(), Description = $"{plural}/{name}: restore {Weights(JsonNode.Parse(originalText)!.AsArray())}" });
        prior[$"{plural}/{name}"] = new JsonObject { ["resourceVersion"] = resourceVersion, [field] = JsonNode.Parse(originalText) };
    }

    /// <summary>Moves the degraded entries' weight (down to <paramref name="keep"/>) onto the healthy entries, proportionally.</summary>
    internal static bool Shift(JsonArray entries, Func<JsonObject, string?> versionOf, string degraded, IReadOnlySet<string> healthy, int keep)
    {
        var items = entries.OfType<JsonObject>().Select(e => (Entry: e, Version: versionOf(e), Weight: e["weight"]?.GetValue<int>() ?? 0)).ToList();
        var bad = items.Where(i => i.Version == degraded && i.Weight > keep).ToList();
        var good = items.Where(i => i.Version is { } v && healthy.Contains(v)).ToList();
        if (bad.Count == 0 || good.Count == 0)
        {
            return false;
        }
        var released = bad.Sum(b => b.Weight - keep);
        foreach (var b in bad)
        {
            b.Entry["weight"] = keep;
        }
        var goodTotal = good.Sum(g => g.Weight);
        var given = 0;
        for (var i = 0; i < good.Count; i++)
        {
            var share = i == good.Count - 1
                ? released - given
                : goodTotal == 0 ? released / good.Count : released * good[i].Weight / goodTotal;
            good[i].Entry["weight"] = good[i].Weight + share;
            given += share;
        }
        return true;
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

    private static string? VersionOfSubset(string? subset, Dictionary<string, string> subsets) =>
        subset is null ? null : subsets.GetValueOrDefault(subset, subset);

    private static string? VersionOfBackend(string? name, string degradedWorkload, string degraded, IReadOnlySet<string> healthy)
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

    private static bool RoutesService(JsonObject vs, string service) =>
        (vs["spec"]?["hosts"] as JsonArray)?.Any(h => ShortHost(h?.GetValue<string>()) == service) == true
        || (vs["spec"]?["http"] as JsonArray)?.OfType<JsonObject>().SelectMany(r => (r["route"] as JsonArray)?.OfType<JsonObject>() ?? [])
            .Any(d => ShortHost(d["destination"]?["host"]?.GetValue<string>()) == service) == true;

    private static string? ShortHost(string? host) => host?.Split('.')[0];

    private static string Weights(JsonArray routes) => string.Join(" | ", routes.OfType<JsonObject>().Select(r =>
        string.Join(",", ((r["route"] ?? r["backendRefs"]) as JsonArray)?.OfType<JsonObject>().Select(d =>
            $"{d["destination"]?["subset"]?.GetValue<string>() ?? d["name"]?.GetValue<string>()}={d["weight"]?.GetValue<int>() ?? 0}") ?? [])));
}
