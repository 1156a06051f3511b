using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace Remediation.ClusterSimulator.Json;

/// <summary>Small helpers over System.Text.Json.Nodes used throughout the simulator.</summary>
internal static class J
{
    public static readonly JsonSerializerOptions Compact = new()
    {
        WriteIndented = false,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public static JsonNode? At(JsonNode? node, params string[] path)
    {
        var cur = node;
        foreach (var p in path)
        {
            if (cur is not JsonObject o || !o.TryGetPropertyValue(p, out cur))
            {
                return null;
            }
        }

        return cur;
    }

    public static string? Str(JsonNode? node, params string[] path)
    {
        var n = At(node, path);
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.String)
        {
            return v.GetValue<string>();
        }

        return null;
    }

    public static double? Num(JsonNode? node, params string[] path)
    {
        var n = At(node, path);
        if (n is JsonValue v && v.GetValueKind() == JsonValueKind.Number)
        {
            return double.Parse(v.ToJsonString(), CultureInfo.InvariantCulture);
        }

        return null;
    }

    public static long? Long(JsonNode? node, params string[] path)
    {
        var d = Num(node, path);
        return d is null ? null : (long)d.Value;
    }

    public static bool? Bool(JsonNode? node, params string[] path)
    {
        var n = At(node, path);
        if (n is JsonValue v)
        {
            var k = v.GetValueKind();
            if (k == JsonValueKind.True)
            {
                return true;
            }

            if (k == JsonValueKind.False)
            {
                return false;
            }
        }

        return null;
    }

    public static JsonObject Obj(JsonObject parent, string key)
    {
        if (parent[key] is JsonObject o)
        {
            return o;
        }

        var created = new JsonObject();
        parent[key] = created;
        return created;
    }

    public static JsonArray Arr(JsonObject parent, string key)
    {
        if (parent[key] is JsonArray a)
        {
            return a;
        }

        var created = new JsonArray();
        parent[key] = created;
        return created;
    }

    public static JsonObject Meta(JsonObject o) => Obj(o, "metadata");

    public static string Name(JsonObject o) => Str(o, "metadata", "name") ?? "";

    public static string Namespace(JsonObject o) => Str(o, "metadata", "namespace") ?? "";

    public static string Uid(JsonObject o) => Str(o, "metadata", "uid") ?? "";

    public static SortedDictionary<string, string> StringMap(JsonNode? node)
    {
        var result = new SortedDictionary<string, string>(StringComparer.Ordinal);
        if (node is JsonObject o)
        {
            foreach (var (k, v) in o)
            {
                if (v is JsonValue jv && jv.GetValueKind() == JsonValueKind.String)
                {
                    result[k] = jv.GetValue<string>();
                }
                else if (v is not null)
                {
                    result[k] = v.ToJsonString();
                }
            }
        }

        return result;
    }

    public static JsonObject ToObject(IEnumerable<KeyValuePair<string, string>> map)
    {
        var o = new JsonObject();
        foreach (var (k, v) in map)
        {
            o[k] = v;
        }

        return o;
    }

    public static JsonObject Clone(JsonObject o) => (JsonObject)o.DeepClone();

    public static bool Same(JsonNode? a, JsonNode? b) => JsonNode.DeepEquals(a, b);

    /// <summary>Returns a clone with object keys sorted ordinally (recursively).</summary>
    public static JsonNode? Sorted(JsonNode? node)
    {
        switch (node)
        {
            case JsonObject o:
                var r = new JsonObject();
                foreach (var (k, v) in o.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    r[k] = Sorted(v);
                }

                return r;
            case JsonArray a:
                var ra = new JsonArray();
                foreach (var item in a)
                {
                    ra.Add(Sorted(item));
                }

                return ra;
            case null:
                return null;
            default:
                return node.DeepClone();
        }
    }

    public static string Canonical(JsonNode? node, bool indented = false)
    {
        var s = Sorted(node);
        return s is null ? "null" : s.ToJsonString(indented ? Indented : Compact);
    }

    public static string Serialize(JsonNode node) => node.ToJsonString(Compact);

    public static JsonNode? Parse(string text) => JsonNode.Parse(text, documentOptions: new JsonDocumentOptions { AllowTrailingCommas = false });

    /// <summary>FNV-1a 32 bit.</summary>
    public static uint Fnv32(string s)
    {
        uint hash = 2166136261;
        foreach (var b in Encoding.UTF8.GetBytes(s))
        {
            hash ^= b;
            hash *= 16777619;
        }

        return hash;
    }

    private const string SafeAlphabet = "bcdfghjklmnpqrstvwxz2456789";

    /// <summary>Like k8s.io/apimachinery rand.SafeEncodeString.</summary>
    public static string SafeEncode(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (var ch in Encoding.UTF8.GetBytes(s))
        {
            sb.Append(SafeAlphabet[ch % SafeAlphabet.Length]);
        }

        return sb.ToString();
    }

    public static string RandomSuffix(Random random, int length = 5)
    {
        var sb = new StringBuilder(length);
        for (var i = 0; i < length; i++)
        {
            sb.Append(SafeAlphabet[random.Next(SafeAlphabet.Length)]);
        }

        return sb.ToString();
    }

    public static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    public static DateTimeOffset? ParseTime(string? s)
    {
        if (s is null)
        {
            return null;
        }

        return DateTimeOffset.TryParse(s, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var t) ? t : null;
    }

    public static string Fmt(double d) => d.ToString("0.######", CultureInfo.InvariantCulture);
}
