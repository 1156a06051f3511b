using System.Globalization;
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
    /// <summary>Controller-owned annotations (revision, revision-history...): the deployment controller moves them on after
    /// the plan's write, and a rollback's plan only copies the values it found, so they prove nothing either way.</summary>
    private const string ControllerAnnotationPrefix = "deployment.kubernetes.io/";

    private const int MaxValueText = 60;

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
            "json" => ApplyJsonPatch(current, patch),
            "merge" => patch is JsonObject ? Applied.Of(MergePatch(current, patch)) : Applied.Fail("a merge patch must be a JSON object"),
            // Strategic merge is treated as a merge patch: maps merge the same way, but lists (containers, env...) are
            // compared as if replaced, not merged by key, so a list that gained defaulted fields reads as not applied.
            "strategic" => patch is JsonObject && !HasDirective(patch) ? Applied.Of(MergePatch(current, patch)) : Applied.Fail("the strategic merge patch is not an object or uses $-directives"),
            _ => Applied.Fail($"unknown patch type '{mutation.PatchType}'"),
        };
        return result.Failure ?? FirstDifference(Comparable(result.Value), Comparable(current), "");
    }

    private readonly record struct Applied(JsonNode? Value, string? Failure)
    {
        public static Applied Of(JsonNode? value) => new(value, null);

        public static Applied Fail(string why) => new(null, why);
    }

    // ------------------------------------------------------------------ RFC 6902 JSON Patch

    private static Applied ApplyJsonPatch(JsonObject current, JsonNode? patch)
    {
        if (patch is not JsonArray ops)
        {
            return Applied.Fail("a JSON patch must be an array of operations");
        }
        JsonNode? doc = current.DeepClone();
        foreach (var item in ops)
        {
            if (item is not JsonObject op || Text(op["op"]) is not { } kind || Text(op["path"]) is not { } path || Pointer(path) is not { } tokens)
            {
                return Applied.Fail("a JSON patch operation without a valid op and path");
            }
            var hasValue = op.TryGetPropertyValue("value", out var value);
            string? failure;
            switch (kind)
            {
                case "test":
                    // A precondition on the state before the write (the resourceVersion), not something the plan writes.
                    continue;
                case "add" or "replace" when hasValue:
                    failure = Set(ref doc, tokens, value?.DeepClone(), insert: kind == "add");
                    break;
                case "remove":
                    failure = Remove(doc, tokens);
                    break;
                case "copy" or "move" when Text(op["from"]) is { } from && Pointer(from) is { } fromTokens:
                    if (Resolve(doc, fromTokens) is not { } found)
                    {
                        return Applied.Fail($"{Render(fromTokens)} is absent, the plan {kind}s it to {Render(tokens)}");
                    }
                    var moved = found.Node?.DeepClone();
                    failure = kind == "move" ? Remove(doc, fromTokens) : null;
                    failure ??= Set(ref doc, tokens, moved, insert: true);
                    break;
                default:
                    return Applied.Fail($"cannot interpret the JSON patch operation '{kind}' at {path}");
            }
            if (failure is not null)
            {
                return Applied.Fail(failure);
            }
        }
        return Applied.Of(doc);
    }

    /// <summary>add/replace. A replace of an absent member writes it (the comparison then shows it absent from the object).</summary>
    private static string? Set(ref JsonNode? doc, string[] tokens, JsonNode? value, bool insert)
    {
        if (tokens.Length == 0)
        {
            doc = value;
            return null;
        }
        var parent = Resolve(doc, tokens[..^1]);
        var last = tokens[^1];
        switch (parent?.Node)
        {
            case JsonObject obj:
                obj[last] = value;
                return null;
            case JsonArray array when last == "-" && insert:
                array.Add(value);
                return null;
            case JsonArray array when Index(last) is { } i && (insert ? i <= array.Count : i < array.Count):
                if (insert)
                {
                    array.Insert(i, value);
                }
                else
                {
                    array[i] = value;
                }
                return null;
            default:
                return $"{Render(tokens)} is absent, the plan wrote {Show(value)}";
        }
    }

    /// <summary>remove. Removing what is already absent leaves the object as the plan wanted it.</summary>
    private static string? Remove(JsonNode? doc, string[] tokens)
    {
        if (tokens.Length == 0)
        {
            return "the patch removes the whole object";
        }
        var parent = Resolve(doc, tokens[..^1]);
        var last = tokens[^1];
        switch (parent?.Node)
        {
            case JsonObject obj:
                obj.Remove(last);
                return null;
            case JsonArray array when Index(last) is { } i:
                // Not idempotent: removing index i again removes the next item, and the comparison says so.
                if (i < array.Count)
                {
                    array.RemoveAt(i);
                }
                return null;
            default:
                return null;
        }
    }

    private sealed record Found(JsonNode? Node);

    private static Found? Resolve(JsonNode? node, ReadOnlySpan<string> tokens)
    {
        foreach (var token in tokens)
        {
            switch (node)
            {
                case JsonObject obj when obj.TryGetPropertyValue(token, out var child):
                    node = child;
                    break;
                case JsonArray array when Index(token) is { } i && i < array.Count:
                    node = array[i];
                    break;
                default:
                    return null;
            }
        }
        return new Found(node);
    }

    /// <summary>RFC 6901 pointer tokens ("" is the whole document); null when malformed.</summary>
    private static string[]? Pointer(string path)
    {
        if (path.Length == 0)
        {
            return [];
        }
        if (path[0] != '/')
        {
            return null;
        }
        var tokens = path[1..].Split('/');
        for (var i = 0; i < tokens.Length; i++)
        {
            var t = tokens[i];
            if (t.Replace("~0", "", StringComparison.Ordinal).Replace("~1", "", StringComparison.Ordinal).Contains('~', StringComparison.Ordinal))
            {
                return null;
            }
            tokens[i] = t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal);
        }
        return tokens;
    }

    private static int? Index(string token) =>
        token.Length > 0 && (token == "0" || token[0] != '0') && token.All(char.IsAsciiDigit)
        && int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) ? i : null;

    private static string Render(string[] tokens)
    {
        var path = "";
        foreach (var t in tokens)
        {
            path = Index(t) is { } i ? $"{path}[{i}]" : Member(path, t);
        }
        return path.Length == 0 ? "the object" : path;
    }

    // ------------------------------------------------------------------ RFC 7386 merge patch

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

    // ------------------------------------------------------------------ comparison

    /// <summary>The object without what the server or controllers own (resourceVersion, generation, managedFields,
    /// status, the deployment controller's annotations), and without null or empty-object members: to the API null,
    /// {} and absent are the same (it does not store an empty map, so a merge patch deleting the last annotation
    /// leaves no annotations, not {}).</summary>
    private static JsonNode? Comparable(JsonNode? node)
    {
        var copy = WithoutEmpty(node);
        if (copy is JsonObject obj)
        {
            obj.Remove("status");
            if (obj["metadata"] is JsonObject metadata)
            {
                metadata.Remove("resourceVersion");
                metadata.Remove("generation");
                metadata.Remove("managedFields");
                if (metadata["annotations"] is JsonObject annotations)
                {
                    foreach (var key in annotations.Select(a => a.Key).Where(k => k.StartsWith(ControllerAnnotationPrefix, StringComparison.Ordinal)).ToList())
                    {
                        annotations.Remove(key);
                    }
                }
            }
        }
        return copy;
    }

    private static JsonNode? WithoutEmpty(JsonNode? node) => node switch
    {
        JsonObject obj => new JsonObject(obj
            .Select(p => KeyValuePair.Create(p.Key, WithoutEmpty(p.Value)))
            .Where(p => p.Value is not null and not JsonObject { Count: 0 })),
        JsonArray array => new JsonArray(array.Select(WithoutEmpty).ToArray()),
        _ => node?.DeepClone(),
    };

    /// <summary>The first path where the object (actual) differs from the object with the patch re-applied (wanted).</summary>
    private static string? FirstDifference(JsonNode? wanted, JsonNode? actual, string path)
    {
        switch (wanted, actual)
        {
            case (JsonObject w, JsonObject a):
                foreach (var (name, value) in w)
                {
                    if (!a.TryGetPropertyValue(name, out var other))
                    {
                        return $"{Member(path, name)} is absent, the plan wrote {Show(value)}";
                    }
                    if (FirstDifference(value, other, Member(path, name)) is { } inner)
                    {
                        return inner;
                    }
                }
                foreach (var (name, value) in a)
                {
                    if (!w.ContainsKey(name))
                    {
                        return $"{Member(path, name)} is {Show(value)}, the plan removed it";
                    }
                }
                return null;
            case (JsonArray w, JsonArray a):
                for (var i = 0; i < Math.Min(w.Count, a.Count); i++)
                {
                    if (FirstDifference(w[i], a[i], $"{path}[{i}]") is { } inner)
                    {
                        return inner;
                    }
                }
                return w.Count == a.Count ? null : $"{Name(path)} has {a.Count} items, the plan wrote {w.Count}";
            default:
                return JsonNode.DeepEquals(wanted, actual) ? null : $"{Name(path)} is {Show(actual)}, the plan wrote {Show(wanted)}";
        }
    }

    /// <summary>spec.replicas; keys with dots or slashes as annotations[kubectl.kubernetes.io/restartedAt].</summary>
    private static string Member(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? (path.Length == 0 ? name : $"{path}.{name}")
            : $"{path}[{name}]";

    private static string Name(string path) => path.Length == 0 ? "the object" : path;

    private static string Show(JsonNode? value)
    {
        var text = value switch
        {
            null => "null",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => $"'{v.GetValue<string>()}'",
            _ => value.ToJsonString(),
        };
        return text.Length <= MaxValueText ? text : string.Concat(text.AsSpan(0, MaxValueText), "…");
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
