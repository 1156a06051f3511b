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
public sealed class TrafficShiftAction(IClusterReader reader, IEnumerable<IMeshRouter> routers) : IRemediationAction
{
    public const string OriginalRoutesAnnotation = MeshRoutes.OriginalRoutesAnnotation;

    public string Name => ActionNames.TrafficShift;

    public async Task<ActionPlan> PlanAsync(ActionContext context, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(context);
        var target = context.Target;
        var diagnosis = context.Diagnosis;
        var keep = ActionParameters.Int(Name, context.Parameters, "weight", 0);
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
        foreach (var router in routers)
        {
            foreach (var routes in await router.GetRoutesAsync(target.Namespace, service, target.Name, degraded, healthy, cancellationToken).ConfigureAwait(false))
            {
                var shifted = routes.Rules.DeepClone().AsArray();
                var changed = false;
                foreach (var rule in shifted.OfType<JsonObject>())
                {
                    changed |= Shift(routes.EntriesOf(rule).ToList(), degraded, healthy, keep);
                }
                if (changed)
                {
                    mutations.Add(routes.SetRoutes(shifted));
                    reverts.Add(routes.Restore());
                    prior[$"{routes.Plural}/{routes.Name}"] = new JsonObject { ["resourceVersion"] = routes.ResourceVersion, [routes.Field] = routes.Original.DeepClone() };
                }
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

    /// <summary>Moves the degraded entries' weight (down to <paramref name="keep"/>) onto the healthy entries, proportionally.</summary>
    internal static bool Shift(IReadOnlyList<RouteEntry> entries, string degraded, IReadOnlySet<string> healthy, int keep)
    {
        var items = entries.Select(e => (Entry: e, e.Version, e.Weight)).ToList();
        var bad = items.Where(i => i.Version == degraded && i.Weight > keep).ToList();
        var good = items.Where(i => i.Version is { } v && healthy.Contains(v)).ToList();
        if (bad.Count == 0 || good.Count == 0)
        {
            return false;
        }
        var released = bad.Sum(b => b.Weight - keep);
        foreach (var b in bad)
        {
            b.Entry.Weight = keep;
        }
        var goodTotal = good.Sum(g => g.Weight);
        var given = 0;
        for (var i = 0; i < good.Count; i++)
        {
            var share = i == good.Count - 1
                ? released - given
                : goodTotal == 0 ? released / good.Count : released * good[i].Weight / goodTotal;
            good[i].Entry.Weight = good[i].Weight + share;
            given += share;
        }
        return true;
    }
}
