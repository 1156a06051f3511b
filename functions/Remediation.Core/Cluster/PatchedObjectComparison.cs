using System.Text.Json;
using System.Text.Json.Nodes;

namespace Remediation.Cluster;

/// <summary>
/// Compares the object as the plan wanted it with the object as it is, ignoring what the server and controllers own,
/// and names the first path where they differ in one short line.
/// </summary>
internal static class PatchedObjectComparison
{
    /// <summary>Controller-owned annotations (revision, revision-history...): the deployment controller moves them on after
    /// the plan's write, and a rollback's plan only copies the values it found, so they prove nothing either way.</summary>
    private const string ControllerAnnotationPrefix = "deployment.kubernetes.io/";

    private const int MaxValueText = 60;

    /// <summary>Null when <paramref name="actual"/> holds what <paramref name="wanted"/> holds, else the first difference.</summary>
    public static string? FirstDifference(JsonNode? wanted, JsonNode? actual) =>
        FirstDifference(Comparable(wanted), Comparable(actual), "");

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
    public static string Member(string path, string name) =>
        name.Length > 0 && name.All(c => char.IsAsciiLetterOrDigit(c) || c is '_' or '-')
            ? (path.Length == 0 ? name : $"{path}.{name}")
            : $"{path}[{name}]";

    private static string Name(string path) => path.Length == 0 ? "the object" : path;

    public static string Show(JsonNode? value)
    {
        var text = value switch
        {
            null => "null",
            JsonValue v when v.GetValueKind() == JsonValueKind.String => $"'{v.GetValue<string>()}'",
            _ => value.ToJsonString(),
        };
        return text.Length <= MaxValueText ? text : string.Concat(text.AsSpan(0, MaxValueText), "…");
    }
}
