using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using CsCheck;

namespace Remediation.Tests.Security;

/// <summary>One mutation step: which operation, two operands and a seed for the positions it picks.</summary>
public readonly record struct MutationOp(int Kind, int A, int B, uint Seed);

/// <summary>A golden payload and the mutation steps applied to it, in order.</summary>
public sealed record Mutation(int Golden, MutationOp[] Ops, int MediaType)
{
    public override string ToString() => $"golden {Golden}, media {MediaType}, ops [{string.Join(", ", Ops.Select(o => $"{PayloadMutator.OpNames[o.Kind % PayloadMutator.OpNames.Length]}({o.A},{o.B},{o.Seed})"))}]";
}

/// <summary>
/// Mutates golden payloads the way a broken or hostile sender would: byte flips, truncation, invalid UTF-8, deleted,
/// renamed and duplicated fields, type swaps, huge numbers, huge strings, deep nesting. Deterministic for a <see cref="Mutation"/>,
/// so CsCheck can shrink a failure to a small reproducible case.
/// </summary>
public static class PayloadMutator
{
    public static readonly string[] OpNames =
        ["flip-bytes", "truncate", "invalid-utf8", "delete-range", "duplicate-range", "delete-node", "swap-type", "rename-key", "inject-field", "wrap-node", "swap-values"];

    /// <summary>Raw JSON (or deliberately not JSON) values swapped in for any node.</summary>
    public static readonly string[] RawValues =
    [
        "null", "true", "false", "0", "-1", "-0", "1.5", "1e400", "-1e400", "123456789012345678901234567890", "9223372036854775808",
        "\"\"", "\" \"", "\"x\"", "[]", "{}", "[null]", "{\"\":null}", "\"\\u0000\"", "\"\\ud800\"", "\"\\udc00x\\ud800\"", "\"\u202e\u0007\"",
        "\"0001-01-01T00:00:00+14:00\"", "\"9999-12-31T23:59:59-14:00\"", "\"2026-13-45T99:99:99Z\"", "\"0001-01-01T00:00:00Z\"",
        "\"../../etc/passwd\"", "\"kube-system\"", "\"firing\"", "\"resolved\"", "\"Fired\"", "\"Sev0\"", "\"1.0\"", "\"4\"",
        "\"azureMonitorCommonAlertSchema\"", "\"AzureMonitor.Alert.Fired\"", "\"Microsoft.EventGrid.SubscriptionValidationEvent\"",
        "NaN", "Infinity", "'single'", "undefined", "{\"a\":1,\"a\":2}", "[1,2,", "\"\\x41\"",
        "@LONG", "@DEEP-ARRAY", "@DEEP-OBJECT", "@VERY-DEEP", "@MANY-ITEMS",
    ];

    private static readonly string[] FieldNames =
    [
        "version", "status", "alerts", "labels", "alertname", "namespace", "deployment", "pod", "startsAt", "endsAt", "fingerprint",
        "schemaId", "data", "essentials", "alertId", "alertRule", "severity", "signalType", "monitorCondition", "firedDateTime",
        "alertContext", "condition", "allOf", "dimensions", "alertTargetIDs", "id", "eventType", "subject", "eventTime", "dataVersion",
        "specversion", "source", "type", "data_base64", "validationCode", "datacontenttype", "",
    ];

    public static readonly string[] MediaTypes =
        ["application/json", "application/cloudevents+json", "application/cloudevents-batch+json", "text/plain", "application/json; charset=utf-8"];

    private static readonly byte[][] InvalidUtf8 =
        [[0xFF], [0xC3, 0x28], [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xC0, 0xAF], [0xE2, 0x82], [0xEF, 0xBB, 0xBF], [0x00]];

    public static Gen<Mutation> Gen(int goldens) =>
        from golden in CsCheck.Gen.Int[0, goldens - 1]
        from ops in (from kind in CsCheck.Gen.Int[0, OpNames.Length - 1]
                     from a in CsCheck.Gen.Int[0, 100_000]
                     from b in CsCheck.Gen.Int[0, 100_000]
                     from seed in CsCheck.Gen.UInt
                     select new MutationOp(kind, a, b, seed)).Array[1, 4]
        from media in CsCheck.Gen.Int[0, 9]
        select new Mutation(golden, ops, media);

    public static byte[] Apply(byte[] golden, Mutation mutation)
    {
        ArgumentNullException.ThrowIfNull(golden);
        ArgumentNullException.ThrowIfNull(mutation);
        var bytes = golden;
        foreach (var op in mutation.Ops)
        {
            bytes = Apply(bytes, op);
        }
        return bytes;
    }

    private static byte[] Apply(byte[] bytes, MutationOp op)
    {
        var random = new Random((int)op.Seed);
        var length = Math.Max(1, bytes.Length);
        switch (op.Kind)
        {
            case 0:
            {
                var copy = (byte[])bytes.Clone();
                for (var i = 0; i < op.A % 8 + 1 && copy.Length > 0; i++)
                {
                    copy[random.Next(copy.Length)] = (byte)random.Next(256);
                }
                return copy;
            }
            case 1:
                return bytes[..(op.A % length)];
            case 2:
                return Splice(bytes, op.A % length, 0, InvalidUtf8[op.B % InvalidUtf8.Length]);
            case 3:
                return Splice(bytes, op.A % length, Math.Min(op.B % 64 + 1, bytes.Length - op.A % length), []);
            case 4:
            {
                var start = op.A % length;
                var count = Math.Min(op.B % 128 + 1, bytes.Length - start);
                return Splice(bytes, start, 0, bytes.AsSpan(start, Math.Max(0, count)).ToArray());
            }
            case 8:
            {
                // A field injected at the start of a random object: duplicates of real fields included.
                var braces = Enumerable.Range(0, bytes.Length).Where(i => bytes[i] == (byte)'{').ToList();
                if (braces.Count == 0)
                {
                    return Splice(bytes, 0, 0, "{"u8.ToArray());
                }
                var at = braces[random.Next(braces.Count)] + 1;
                var field = $"\"{FieldNames[op.A % FieldNames.Length]}\":{Raw(RawValues[op.B % RawValues.Length])},";
                return Splice(bytes, at, 0, Encoding.UTF8.GetBytes(field));
            }
            default:
                try
                {
                    return MutateTree(bytes, op, random);
                }
                catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
                {
                    // The tree could not be read or written (e.g. invalid UTF-8 inside a string): mutate bytes instead.
                    return Apply(bytes, op with { Kind = op.A % 5 });
                }
        }
    }

    private static byte[] MutateTree(byte[] bytes, MutationOp op, Random random)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(bytes, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
        {
            // Not JSON any more (an earlier byte-level step broke it): fall back to a byte-level mutation.
            return Apply(bytes, op with { Kind = op.A % 5 });
        }
        if (root is null)
        {
            return bytes;
        }
        var nodes = new List<JsonNode>();
        Collect(root, nodes);
        if (nodes.Count <= 1)
        {
            return bytes;
        }
        var target = nodes[1 + random.Next(nodes.Count - 1)];
        const string Marker = "@@RAW-VALUE@@";
        var raw = Raw(RawValues[op.B % RawValues.Length]);
        try
        {
            switch (op.Kind)
            {
                case 5:
                    Remove(target);
                    break;
                case 6:
                    Replace(target, JsonValue.Create(Marker));
                    break;
                case 7:
                    if (target.Parent is JsonObject parent)
                    {
                        var name = target.GetPropertyName();
                        parent.Remove(name);
                        var newName = op.A % 3 == 0 ? name.ToUpperInvariant() : FieldNames[op.A % FieldNames.Length] + (op.A % 2 == 0 ? "" : " ");
                        parent[newName] = target;
                    }
                    break;
                case 9:
                    var clone = target.DeepClone();
                    Replace(target, op.A % 2 == 0 ? new JsonArray(clone) : new JsonObject { ["value"] = clone });
                    break;
                default:
                    var other = nodes[random.Next(nodes.Count)];
                    if (other != target && other != root && !IsAncestor(target, other) && !IsAncestor(other, target))
                    {
                        Replace(target, other.DeepClone());
                    }
                    break;
            }
        }
        catch (Exception ex) when (ex is ArgumentException or InvalidOperationException)
        {
            // Duplicate key after a rename and the like: keep the tree as it was, then flip a byte instead.
            return Apply(bytes, op with { Kind = 0 });
        }
        var text = root.ToJsonString();
        return Encoding.UTF8.GetBytes(text.Replace($"\"{Marker}\"", raw, StringComparison.Ordinal));
    }

    private static string Raw(string value) => value switch
    {
        "@LONG" => "\"" + new string('a', 70_000) + "\"",
        "@DEEP-ARRAY" => new string('[', 100) + new string(']', 100),
        "@DEEP-OBJECT" => string.Concat(Enumerable.Repeat("{\"a\":", 70)) + "1" + new string('}', 70),
        "@VERY-DEEP" => new string('[', 20_000) + new string(']', 20_000),
        "@MANY-ITEMS" => "[" + string.Join(",", Enumerable.Repeat("{\"name\":\"pod\",\"value\":\"p\"}", 5_000)) + "]",
        _ => value,
    };

    private static void Collect(JsonNode node, List<JsonNode> nodes)
    {
        nodes.Add(node);
        switch (node)
        {
            case JsonObject o:
                foreach (var (_, child) in o)
                {
                    if (child is not null)
                    {
                        Collect(child, nodes);
                    }
                }
                break;
            case JsonArray a:
                foreach (var child in a)
                {
                    if (child is not null)
                    {
                        Collect(child, nodes);
                    }
                }
                break;
        }
    }

    private static bool IsAncestor(JsonNode ancestor, JsonNode node)
    {
        for (var p = node.Parent; p is not null; p = p.Parent)
        {
            if (p == ancestor)
            {
                return true;
            }
        }
        return false;
    }

    private static void Remove(JsonNode node)
    {
        switch (node.Parent)
        {
            case JsonObject o:
                o.Remove(node.GetPropertyName());
                break;
            case JsonArray a:
                a.Remove(node);
                break;
        }
    }

    private static void Replace(JsonNode node, JsonNode replacement)
    {
        switch (node.Parent)
        {
            case JsonObject o:
                o[node.GetPropertyName()] = replacement;
                break;
            case JsonArray a:
                a[a.IndexOf(node)] = replacement;
                break;
        }
    }

    private static byte[] Splice(byte[] bytes, int at, int remove, byte[] insert)
    {
        at = Math.Clamp(at, 0, bytes.Length);
        remove = Math.Clamp(remove, 0, bytes.Length - at);
        var result = new byte[bytes.Length - remove + insert.Length];
        bytes.AsSpan(0, at).CopyTo(result);
        insert.CopyTo(result.AsSpan(at));
        bytes.AsSpan(at + remove).CopyTo(result.AsSpan(at + insert.Length));
        return result;
    }

    /// <summary>A short printable form of a body, for failure messages.</summary>
    public static string Preview(byte[] body) =>
        Encoding.UTF8.GetString(body.AsSpan(0, Math.Min(body.Length, 600))).ReplaceLineEndings(" ") + (body.Length > 600 ? $"… ({body.Length} bytes)" : "");
}
