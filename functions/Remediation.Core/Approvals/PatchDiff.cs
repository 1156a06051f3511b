using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.Actions;
using Remediation.Cluster;
using Remediation.Text;

namespace Remediation.Approvals;

/// <summary>
/// The fields one patch writes, each compared with the recorded before value. A write point is a JSON Patch
/// operation's path, or a non-object leaf of a merge patch (objects merge member by member; lists and values replace).
/// Under a recorded before value the change is split down to the leaves that differ; where nothing was recorded the
/// write is shown whole.
/// </summary>
internal static class PatchDiff
{
    private const int MaxValueText = 80;

    public static IEnumerable<RawChange> Changes(Mutation mutation, (JsonObject Before, IReadOnlyList<string[]> Recorded) prior)
    {
        JsonNode? patch;
        try
        {
            patch = mutation.Patch is null ? null : JsonNode.Parse(mutation.Patch);
        }
        catch (JsonException)
        {
            return [new RawChange("", null, "(a patch that is not JSON)", Recorded: false)];
        }
        var writes = new List<(string[] Path, JsonNode? Value, bool Removes)>();
        if (mutation.PatchType == "json" && patch is JsonArray ops)
        {
            foreach (var op in ops.OfType<JsonObject>())
            {
                var path = Pointer(op["path"]?.ToString() ?? "");
                switch (op["op"]?.ToString())
                {
                    case "test":
                        break;
                    case "remove":
                        writes.Add((path, null, true));
                        break;
                    case "add" or "replace":
                        writes.Add((path, op["value"], false));
                        break;
                    default:
                        writes.Add((path, JsonValue.Create($"({op["op"]} from {op["from"]})"), false));
                        break;
                }
            }
        }
        else if (patch is JsonObject merge)
        {
            MergeWrites(merge, [], writes);
        }
        var changes = new List<RawChange>();
        foreach (var (path, value, removes) in writes.Where(w => !IsPrecondition(w.Path)))
        {
            var after = removes ? null : value;
            if (!prior.Recorded.Any(r => StartsWith(path, r) || StartsWith(r, path)))
            {
                changes.Add(new RawChange(Render(path), null, removes ? null : Show(after), Recorded: false));
                continue;
            }
            Diff(Resolve(prior.Before, path), after, Render(path), changes);
        }
        return changes;
    }

    /// <summary>Merge patch write points: null deletes, objects recurse, anything else is written whole.</summary>
    private static void MergeWrites(JsonObject patch, string[] path, List<(string[], JsonNode?, bool)> writes)
    {
        foreach (var (name, value) in patch)
        {
            string[] child = [.. path, name];
            if (value is JsonObject obj && obj.Count > 0)
            {
                MergeWrites(obj, child, writes);
            }
            else
            {
                writes.Add((child, value, value is null));
            }
        }
    }

    /// <summary>The resourceVersion a patch carries is the optimistic-concurrency precondition, not a change.</summary>
    private static bool IsPrecondition(string[] path) => path is ["metadata", "resourceVersion"];

    private static void Diff(JsonNode? before, JsonNode? after, string path, List<RawChange> changes)
    {
        switch (before, after)
        {
            case (JsonObject b, JsonObject a):
                foreach (var name in a.Select(p => p.Key).Concat(b.Select(p => p.Key).Where(k => !a.ContainsKey(k))))
                {
                    Diff(b[name], a[name], Member(path, name), changes);
                }
                break;
            case (JsonArray b, JsonArray a) when Keyed(b) is { } bk && Keyed(a) is { } ak:
                foreach (var name in ak.Keys.Concat(bk.Keys.Where(k => !ak.ContainsKey(k))))
                {
                    Diff(bk.GetValueOrDefault(name), ak.GetValueOrDefault(name), $"{Name(path)}[{DisplayText.Escape(name)}]", changes);
                }
                break;
            case (JsonArray b, JsonArray a) when b.Count == a.Count:
                for (var i = 0; i < a.Count; i++)
                {
                    Diff(b[i], a[i], $"{Name(path)}[{i}]", changes);
                }
                break;
            default:
                if (!JsonNode.DeepEquals(before, after))
                {
                    changes.Add(new RawChange(path, before is null ? null : Show(before), after is null ? null : Show(after), Recorded: true));
                }
                break;
        }
    }

    /// <summary>The items by their "name" when every item is an object with a distinct name (containers, env, ports).</summary>
    private static Dictionary<string, JsonNode>? Keyed(JsonArray array)
    {
        var keyed = new Dictionary<string, JsonNode>(StringComparer.Ordinal);
        foreach (var item in array)
        {
            if (item is not JsonObject obj || obj["name"] is not JsonValue v || v.GetValueKind() != JsonValueKind.String
                || !keyed.TryAdd(v.GetValue<string>(), obj))
            {
                return null;
            }
        }
        return keyed.Count > 0 ? keyed : null;
    }

    private static JsonNode? Resolve(JsonNode? node, string[] path)
    {
        foreach (var token in path)
        {
            node = node switch
            {
                JsonObject obj => obj[token],
                JsonArray array when int.TryParse(token, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < array.Count => array[i],
                _ => null,
            };
        }
        return node;
    }

    private static bool StartsWith(string[] path, string[] prefix) =>
        path.Length >= prefix.Length && path.AsSpan(0, prefix.Length).SequenceEqual(prefix);

    /// <summary>RFC 6901 tokens; "/" is the whole document.</summary>
    private static string[] Pointer(string pointer) => pointer.Length == 0
        ? []
        : [.. pointer.TrimStart('/').Split('/').Select(t => t.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal))];

    private static string Render(string[] path) => path.Aggregate("", (rendered, token) =>
        token.Length > 0 && token.All(char.IsAsciiDigit) && rendered.Length > 0 ? $"{rendered}[{token}]" : Member(rendered, token));

    /// <summary>spec.replicas; names with dots or slashes as annotations[kubectl.kubernetes.io/restartedAt].</summary>
    private static string Member(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? (path.Length == 0 ? name : $"{path}.{name}")
            : $"{path}[{DisplayText.Escape(name)}]";

    private static string Name(string path) => path.Length == 0 ? "(object)" : path;

    /// <summary>Strings as they are (control characters escaped), anything else as compact JSON; long values cut.</summary>
    private static string Show(JsonNode? value)
    {
        var text = value switch
        {
            null => "null",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
            _ => value.ToJsonString(),
        };
        text = DisplayText.Escape(text);
        return text.Length <= MaxValueText ? text : string.Concat(text.AsSpan(0, MaxValueText), "…");
    }
}
