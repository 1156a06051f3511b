using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.ClusterSimulator.Api;

namespace Remediation.ClusterSimulator.Json;

/// <summary>RFC 6902 JSON patch, RFC 7386 merge patch and a simplified Kubernetes strategic merge patch.</summary>
internal static class Patches
{
    // ---------------------------------------------------------------- JSON patch (RFC 6902)

    public static JsonNode? ApplyJsonPatch(JsonNode? document, JsonNode? patch)
    {
        if (patch is not JsonArray ops)
        {
            throw ApiException.BadRequest("json: cannot unmarshal object into Go value of type jsonpatch.Patch");
        }

        var doc = document?.DeepClone();
        foreach (var opNode in ops)
        {
            if (opNode is not JsonObject op)
            {
                throw ApiException.BadRequest("json: cannot unmarshal into Go value of type jsonpatch.Operation");
            }

            var kind = J.Str(op, "op") ?? throw ApiException.BadRequest("Unexpected kind: missing op");
            var path = J.Str(op, "path") ?? throw Unprocessable($"missing path in {kind} operation");
            switch (kind)
            {
                case "add":
                    doc = Add(doc, path, CloneValue(op));
                    break;
                case "remove":
                    doc = Remove(doc, path, out _);
                    break;
                case "replace":
                    if (!PathExists(doc, path))
                    {
                        throw Unprocessable($"replace operation does not apply: doc is missing key: {path}");
                    }

                    doc = Remove(doc, path, out _);
                    doc = Add(doc, path, CloneValue(op));
                    break;
                case "move":
                    {
                        var from = J.Str(op, "from") ?? throw Unprocessable("missing from in move operation");
                        doc = Remove(doc, from, out var moved);
                        doc = Add(doc, path, moved);
                        break;
                    }

                case "copy":
                    {
                        var from = J.Str(op, "from") ?? throw Unprocessable("missing from in copy operation");
                        if (!PathExists(doc, from))
                        {
                            throw Unprocessable($"copy operation does not apply: doc is missing from path: {from}");
                        }

                        doc = Add(doc, path, Get(doc, from)?.DeepClone());
                        break;
                    }

                case "test":
                    {
                        var actual = Get(doc, path);
                        if (!PathExists(doc, path) || !JsonNode.DeepEquals(actual, op["value"]))
                        {
                            throw Unprocessable($"testing value {path} failed");
                        }

                        break;
                    }

                default:
                    throw ApiException.BadRequest($"Unexpected kind: {kind}");
            }
        }

        return doc;
    }

    private static JsonNode? CloneValue(JsonObject op)
    {
        if (!op.ContainsKey("value"))
        {
            throw Unprocessable("missing value in operation");
        }

        return op["value"]?.DeepClone();
    }

    private static ApiException Unprocessable(string message) => new(422, "Invalid", message);

    private static List<string> Split(string path)
    {
        if (path == "")
        {
            return [];
        }

        if (!path.StartsWith('/'))
        {
            throw Unprocessable($"invalid JSON pointer {path}");
        }

        return path[1..].Split('/').Select(s => s.Replace("~1", "/", StringComparison.Ordinal).Replace("~0", "~", StringComparison.Ordinal)).ToList();
    }

    private static bool PathExists(JsonNode? doc, string path)
    {
        var cur = doc;
        foreach (var seg in Split(path))
        {
            switch (cur)
            {
                case JsonObject o when o.TryGetPropertyValue(seg, out var next):
                    cur = next;
                    break;
                case JsonArray a when int.TryParse(seg, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                    cur = a[i];
                    break;
                default:
                    return false;
            }
        }

        return true;
    }

    private static JsonNode? Get(JsonNode? doc, string path)
    {
        var cur = doc;
        foreach (var seg in Split(path))
        {
            cur = cur switch
            {
                JsonObject o => o.TryGetPropertyValue(seg, out var next) ? next : null,
                JsonArray a when int.TryParse(seg, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count => a[i],
                _ => null,
            };
            if (cur is null)
            {
                return null;
            }
        }

        return cur;
    }

    private static JsonNode? Add(JsonNode? doc, string path, JsonNode? value)
    {
        var segs = Split(path);
        if (segs.Count == 0)
        {
            return value;
        }

        var parent = Get(doc, "/" + string.Join('/', segs.Take(segs.Count - 1).Select(Escape)));
        if (segs.Count == 1)
        {
            parent = doc;
        }

        var last = segs[^1];
        switch (parent)
        {
            case JsonObject o:
                o[last] = value;
                break;
            case JsonArray a:
                if (last == "-")
                {
                    a.Add(value);
                }
                else if (int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i <= a.Count)
                {
                    a.Insert(i, value);
                }
                else
                {
                    throw Unprocessable($"add operation does not apply: index out of range: {path}");
                }

                break;
            default:
                throw Unprocessable($"add operation does not apply: doc is missing path: \"{path}\": missing value");
        }

        return doc;
    }

    private static JsonNode? Remove(JsonNode? doc, string path, out JsonNode? removed)
    {
        var segs = Split(path);
        if (segs.Count == 0)
        {
            removed = doc;
            return null;
        }

        var parent = segs.Count == 1 ? doc : Get(doc, "/" + string.Join('/', segs.Take(segs.Count - 1).Select(Escape)));
        var last = segs[^1];
        switch (parent)
        {
            case JsonObject o when o.TryGetPropertyValue(last, out var v):
                o.Remove(last);
                removed = v;
                return doc;
            case JsonArray a when int.TryParse(last, NumberStyles.None, CultureInfo.InvariantCulture, out var i) && i < a.Count:
                removed = a[i];
                a.RemoveAt(i);
                return doc;
            default:
                throw Unprocessable($"remove operation does not apply: doc is missing path: \"{path}\": missing value");
        }
    }

    private static string Escape(string s) => s.Replace("~", "~0", StringComparison.Ordinal).Replace("/", "~1", StringComparison.Ordinal);

    // ---------------------------------------------------------------- merge patch (RFC 7386)

    public static JsonNode? MergePatch(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (value is null)
            {
                result.Remove(key);
            }
            else
            {
                result.TryGetPropertyValue(key, out var existing);
                result[key] = MergePatch(existing, value);
            }
        }

        return result;
    }

    // ---------------------------------------------------------------- strategic merge patch (simplified)

    private static readonly Dictionary<string, string[]> MergeKeys = new(StringComparer.Ordinal)
    {
        ["containers"] = ["name"],
        ["initContainers"] = ["name"],
        ["ephemeralContainers"] = ["name"],
        ["env"] = ["name"],
        ["ports"] = ["containerPort", "port"],
        ["volumeMounts"] = ["mountPath"],
        ["volumeDevices"] = ["devicePath"],
        ["volumes"] = ["name"],
        ["imagePullSecrets"] = ["name"],
        ["conditions"] = ["type"],
        ["ownerReferences"] = ["uid"],
        ["hostAliases"] = ["ip"],
        ["topologySpreadConstraints"] = ["topologyKey"],
        ["resourceClaims"] = ["name"],
    };

    private static readonly HashSet<string> MergePrimitiveLists = new(StringComparer.Ordinal) { "finalizers" };

    public static JsonNode? StrategicMerge(JsonNode? target, JsonNode? patch)
    {
        if (patch is not JsonObject p)
        {
            return patch?.DeepClone();
        }

        if (J.Str(p, "$patch") == "replace")
        {
            var replaced = (JsonObject)p.DeepClone();
            replaced.Remove("$patch");
            return StripDirectives(replaced);
        }

        if (J.Str(p, "$patch") == "delete")
        {
            return null;
        }

        var result = target is JsonObject t ? (JsonObject)t.DeepClone() : new JsonObject();
        foreach (var (key, value) in p)
        {
            if (key.StartsWith("$setElementOrder/", StringComparison.Ordinal) || key is "$retainKeys" or "$patch")
            {
                continue;
            }

            if (key.StartsWith("$deleteFromPrimitiveList/", StringComparison.Ordinal))
            {
                var field = key["$deleteFromPrimitiveList/".Length..];
                if (result[field] is JsonArray list && value is JsonArray del)
                {
                    for (var i = list.Count - 1; i >= 0; i--)
                    {
                        if (del.Any(d => JsonNode.DeepEquals(d, list[i])))
                        {
                            list.RemoveAt(i);
                        }
                    }
                }

                continue;
            }

            if (value is null)
            {
                result.Remove(key);
                continue;
            }

            result.TryGetPropertyValue(key, out var existing);
            switch (value)
            {
                case JsonObject:
                    var merged = StrategicMerge(existing, value);
                    if (merged is null)
                    {
                        result.Remove(key);
                    }
                    else
                    {
                        result[key] = merged;
                    }

                    break;
                case JsonArray arr when MergeKeys.TryGetValue(key, out var keys) && existing is JsonArray current:
                    result[key] = MergeList(current, arr, keys);
                    break;
                case JsonArray arr when MergePrimitiveLists.Contains(key) && existing is JsonArray current:
                    var union = (JsonArray)current.DeepClone();
                    foreach (var item in arr)
                    {
                        if (!union.Any(u => JsonNode.DeepEquals(u, item)))
                        {
                            union.Add(item?.DeepClone());
                        }
                    }

                    result[key] = union;
                    break;
                default:
                    result[key] = StripDirectives(value.DeepClone());
                    break;
            }
        }

        return result;
    }

    private static JsonArray MergeList(JsonArray current, JsonArray patch, string[] keys)
    {
        var result = (JsonArray)current.DeepClone();
        if (patch.Count == 1 && patch[0] is JsonObject only && J.Str(only, "$patch") == "replace")
        {
            return new JsonArray();
        }

        foreach (var item in patch)
        {
            if (item is not JsonObject itemObj)
            {
                result.Add(item?.DeepClone());
                continue;
            }

            var key = keys.FirstOrDefault(itemObj.ContainsKey);
            var index = -1;
            if (key is not null)
            {
                for (var i = 0; i < result.Count; i++)
                {
                    if (result[i] is JsonObject r && JsonNode.DeepEquals(r[key], itemObj[key]))
                    {
                        index = i;
                        break;
                    }
                }
            }

            if (J.Str(itemObj, "$patch") == "delete")
            {
                if (index >= 0)
                {
                    result.RemoveAt(index);
                }

                continue;
            }

            if (index >= 0)
            {
                result[index] = StrategicMerge(result[index], itemObj);
            }
            else
            {
                result.Add(StripDirectives(itemObj.DeepClone()));
            }
        }

        return result;
    }

    private static JsonNode? StripDirectives(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var k in o.Select(p => p.Key).Where(k => k.StartsWith('$')).ToList())
                {
                    o.Remove(k);
                }

                foreach (var (_, v) in o.ToList())
                {
                    StripDirectives(v);
                }

                return o;
            case JsonArray a:
                foreach (var v in a)
                {
                    StripDirectives(v);
                }

                return a;
            default:
                return node;
        }
    }

    public static JsonNode? ParseBody(string body)
    {
        try
        {
            return J.Parse(body);
        }
        catch (JsonException ex)
        {
            throw ApiException.BadRequest($"error decoding patch: {ex.Message}");
        }
    }
}
