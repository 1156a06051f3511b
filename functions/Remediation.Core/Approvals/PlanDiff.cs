using System.Text.Json.Nodes;
using Remediation.Actions;
using Remediation.Cluster;

namespace Remediation.Approvals;

/// <summary>
/// One field a plan changes, before -> after. <see cref="Path"/> is empty for a change of the whole object (a pod
/// deletion); list items with a name are addressed by it (<c>containers[payments]</c>), others by index.
/// <see cref="Before"/> is null when the field is absent and <see cref="BeforeRecorded"/> false when the plan's prior
/// state does not hold it (the text then says "(not recorded)" rather than guessing).
/// </summary>
public sealed record FieldChange(string Kind, string Namespace, string Name, string Path, string? Before, string? After, bool BeforeRecorded = true)
{
    public const string NotRecorded = "(not recorded)";
    public const string Absent = "(none)";

    /// <summary>"Deployment shop/payments".</summary>
    public string Object => $"{Kind} {Namespace}/{Name}";

    /// <summary>"Deployment shop/payments spec.template.spec.containers[payments].image: registry/payments:1.4.0 -> registry/payments:1.3.0".</summary>
    public override string ToString() =>
        $"{Object}{(Path.Length == 0 ? "" : " " + Path)}: {(BeforeRecorded ? Before ?? Absent : NotRecorded)} -> {After ?? Absent}";
}

/// <summary>
/// A plan as the before -> after changes of the fields its mutations write, computed from each mutation's patch
/// (JSON Patch operations, merge patches) and the plan's recorded prior state: the text of an approval request
/// (Teams/Slack, the CLI) and the structured list of the page. Preconditions (the resourceVersion a patch tests or
/// carries) are not changes and are left out. The diff is for people; what runs is bound by <see cref="PlanDigest"/>.
/// </summary>
public sealed record PlanDiff(IReadOnlyList<FieldChange> Changes)
{
    public static PlanDiff Of(ActionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        var changes = new List<FieldChange>();
        foreach (var mutation in plan.Mutations)
        {
            var kind = KindOf(mutation.Kind);
            var prior = PriorObjects.Before(plan.PriorState, mutation);
            foreach (var (path, before, after, recorded) in mutation.Kind == MutationKind.DeletePod
                ? [PriorObjects.PodDeletion(plan.PriorState, mutation)]
                : PatchDiff.Changes(mutation, prior))
            {
                changes.Add(new FieldChange(kind, mutation.Namespace, mutation.Name, path, before, after, recorded));
            }
        }
        return new PlanDiff(changes);
    }

    /// <summary>One line per change; "(no field changes)" when there is none.</summary>
    public string ToText() => Changes.Count == 0 ? "(no field changes)" : string.Join('\n', Changes);

    public override string ToString() => ToText();

    internal static string KindOf(MutationKind kind) => kind switch
    {
        MutationKind.PatchDeployment or MutationKind.PatchDeploymentScale => "Deployment",
        MutationKind.PatchHorizontalPodAutoscaler => "HorizontalPodAutoscaler",
        MutationKind.PatchVirtualService => "VirtualService",
        MutationKind.PatchHttpRoute => "HTTPRoute",
        MutationKind.DeletePod => "Pod",
        _ => kind.ToString(),
    };
}

/// <summary>One change before it is named: the path, the rendered values and whether the before value is known.</summary>
internal readonly record struct RawChange(string Path, string? Before, string? After, bool Recorded);

/// <summary>The part of each object the plan's prior state recorded, in the object's own shape.</summary>
internal static class PriorObjects
{
    /// <summary>The recorded fields of the object <paramref name="mutation"/> writes, and the paths (pointer tokens) that
    /// were recorded: a field outside them is "not recorded", not "absent".</summary>
    public static (JsonObject Before, IReadOnlyList<string[]> Recorded) Before(JsonObject prior, Mutation mutation)
    {
        ArgumentNullException.ThrowIfNull(prior);
        var before = new JsonObject();
        var recorded = new List<string[]>();
        void Record(JsonNode? value, params string[] path)
        {
            recorded.Add(path);
            if (value is null)
            {
                return;
            }
            var node = before;
            foreach (var token in path[..^1])
            {
                node = (JsonObject)(node[token] ??= new JsonObject());
            }
            node[path[^1]] = value.DeepClone();
        }
        switch (mutation.Kind)
        {
            case MutationKind.PatchDeployment when prior.TryGetPropertyValue("template", out var template):
                Record(template, "spec", "template");
                break;
            case MutationKind.PatchDeployment when prior.TryGetPropertyValue("restartedAt", out var restartedAt):
                Record(restartedAt, "spec", "template", "metadata", "annotations", RolloutRestartAction.RestartedAtAnnotation);
                break;
            case MutationKind.PatchDeploymentScale when prior.TryGetPropertyValue("replicas", out var replicas):
                Record(replicas, "spec", "replicas");
                break;
            case MutationKind.PatchHorizontalPodAutoscaler when prior.TryGetPropertyValue("maxReplicas", out var maxReplicas):
                Record(maxReplicas, "spec", "maxReplicas");
                break;
            case MutationKind.PatchVirtualService or MutationKind.PatchHttpRoute:
                var plural = mutation.Kind == MutationKind.PatchVirtualService ? "virtualservices" : "httproutes";
                if (prior[$"{plural}/{mutation.Name}"] is JsonObject routes)
                {
                    foreach (var (field, value) in routes.Where(p => p.Key != "resourceVersion"))
                    {
                        Record(value, "spec", field);
                    }
                }
                break;
        }
        return (before, recorded);
    }

    public static RawChange PodDeletion(JsonObject prior, Mutation mutation)
    {
        var reason = prior["reason"]?.ToString();
        var restarts = prior["restarts"]?.ToString();
        var state = reason is null ? "exists" : $"exists ({reason}{(restarts is null ? "" : $", {restarts} restarts")})";
        return new RawChange("", state, "deleted (its ReplicaSet recreates it)", Recorded: prior["pod"]?.ToString() == mutation.Name);
    }
}
