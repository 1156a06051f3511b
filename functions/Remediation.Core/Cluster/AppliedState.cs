using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.Actions;

namespace Remediation.Cluster;

/// <summary>
/// Whether the cluster already holds what a mutation writes: how a resumed attempt tells "my first attempt took effect
/// and its reply was lost" (the retry's resourceVersion precondition now fails with 409/422) from a real conflict.
/// Pure: it re-applies the patch to the current object and checks that nothing changes. Never says applied without
/// proof: a patch it cannot interpret, or a write that is not idempotent (an append to a list), is not applied.
/// </summary>
public static class AppliedState
{
    /// <summary>True when <paramref name="current"/> (the object as the API returns it; null when absent) already has
    /// everything <paramref name="mutation"/> writes.</summary>
    public static bool IsApplied(Mutation mutation, JsonObject? current) => Difference(mutation, current) is null;

    /// <summary>
    /// Null when the mutation is applied; otherwise one short line saying why not, e.g.
    /// "spec.template.spec.containers[0].image is 'x', the plan wrote 'y'".
    /// </summary>
    public static string? Difference(Mutation mutation, JsonObject? current)
    {
        ArgumentNullException.ThrowIfNull(mutation);
        if (mutation.Kind == MutationKind.DeletePod)
        {
            // Gone, or terminating (a pod with a grace period stays until its containers stop). A pod of the same name
            // without a deletionTimestamp counts as not deleted, even if it is a recreated one (StatefulSet).
            return current is null || current["metadata"]?["deletionTimestamp"] is JsonValue
                ? null
                : $"pod {mutation.Name} still exists and is not terminating";
        }
        if (current is null)
        {
            return $"{mutation.Name} does not exist";
        }
        if (string.IsNullOrWhiteSpace(mutation.Patch))
        {
            return "the mutation carries no patch";
        }
        JsonNode? patch;
        try
        {
            patch = JsonNode.Parse(mutation.Patch);
        }
        catch (JsonException ex)
        {
            return $"the patch is not JSON ({ex.Message})";
        }

        var result = mutation.PatchType switch
        {
            "json" => JsonPatchReplay.Apply(current, patch),
            "merge" => patch is JsonObject ? ReappliedPatch.Of(MergePatch(current, patch)) : ReappliedPatch.Fail("a merge patch must be a JSON object"),
            // Strategic merge is treated as a merge patch: maps merge the same way, but lists (containers, env...) are
            // compared as if replaced, not merged by key, so a list that gained defaulted fields reads as not applied.
            "strategic" => patch is JsonObject && !HasDirective(patch) ? ReappliedPatch.Of(MergePatch(current, patch)) : ReappliedPatch.Fail("the strategic merge patch is not an object or uses $-directives"),
            _ => ReappliedPatch.Fail($"unknown patch type '{mutation.PatchType}'"),
        };
        return result.Failure ?? PatchedObjectComparison.FirstDifference(result.Value, current);
    }

    /// <summary>RFC 7386 MergePatch(target, patch): objects merge member by member, null deletes, anything else replaces.</summary>
    private static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject members)
        {
            return patch?.DeepClone();
        }
        var result = target is JsonObject obj ? obj.DeepClone().AsObject() : new JsonObject();
        foreach (var (name, value) in members)
        {
            result.TryGetPropertyValue(name, out var existing);
            result.Remove(name);
            if (value is not null)
            {
                result[name] = MergePatch(existing, value);
            }
        }
        return result;
    }

    private static bool HasDirective(JsonNode? node) => node switch
    {
        JsonObject obj => obj.Any(p => p.Key.StartsWith('$') || HasDirective(p.Value)),
        JsonArray array => array.Any(HasDirective),
        _ => false,
    };
}

/// <summary>The object with a patch re-applied, or why the patch could not be re-applied.</summary>
internal readonly record struct ReappliedPatch(JsonNode? Value, string? Failure)
{
    public static ReappliedPatch Of(JsonNode? value) => new(value, null);

    public static ReappliedPatch Fail(string why) => new(null, why);
}
