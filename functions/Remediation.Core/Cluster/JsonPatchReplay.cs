using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Remediation.Cluster;

/// <summary>
/// RFC 6902 JSON Patch re-applied to a copy of the current object (add, replace, remove, copy, move; test skipped),
/// saying which path it cannot re-apply rather than guessing.
/// </summary>
internal static class JsonPatchReplay
{
    /// <summary>The object with the operations applied; "test" operations are preconditions and are skipped.</summary>
    public static ReappliedPatch Apply(JsonObject current, JsonNode? patch)
    {
        if (patch is not JsonArray ops)
        {
            return ReappliedPatch.Fail("a JSON patch must be an array of operations");
        }
        JsonNode? doc = current.DeepClone();
        foreach (var item in ops)
        {
            if (item is not JsonObject op || Text(op["op"]) is not { } kind || Text(op["path"]) is not { } path || Pointer(path) is not { } tokens)
            {
                return ReappliedPatch.Fail("a JSON patch operation without a valid op and path");
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
                        return ReappliedPatch.Fail($"{Render(fromTokens)} is absent, the plan {kind}s it to {Render(tokens)}");
                    }
                    var moved = found.Node?.DeepClone();
                    failure = kind == "move" ? Remove(doc, fromTokens) : null;
                    failure ??= Set(ref doc, tokens, moved, insert: true);
                    break;
                default:
                    return ReappliedPatch.Fail($"cannot interpret the JSON patch operation '{kind}' at {path}");
            }
            if (failure is not null)
            {
                return ReappliedPatch.Fail(failure);
            }
        }
        return ReappliedPatch.Of(doc);
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
                return $"{Render(tokens)} is absent, the plan wrote {PatchedObjectComparison.Show(value)}";
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

    internal static string Render(string[] tokens)
    {
        var path = "";
        foreach (var t in tokens)
        {
            path = Index(t) is { } i ? $"{path}[{i}]" : PatchedObjectComparison.Member(path, t);
        }
        return path.Length == 0 ? "the object" : path;
    }

    private static string? Text(JsonNode? node) =>
        node is JsonValue v && v.GetValueKind() == JsonValueKind.String ? v.GetValue<string>() : null;
}
