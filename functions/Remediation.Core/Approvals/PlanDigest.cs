using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.Actions;
using Remediation.Cluster;

namespace Remediation.Approvals;

/// <summary>
/// A stable SHA-256 of what a plan will write: for each mutation in order, its kind, namespace, name, resourceVersion
/// precondition, patch type and patch, as canonical JSON (object members sorted by ordinal name, no whitespace).
/// Descriptions, the summary and the recorded prior state do not count: two plans with the same digest make the same
/// API calls. Any re-planned incident whose calls differ gets a new digest, which invalidates tokens issued before.
/// Written <c>sha256:</c> and 64 lowercase hex digits.
/// </summary>
public static class PlanDigest
{
    public const string Prefix = "sha256:";
    private const string Domain = "remediation-plan-v1";

    public static string Of(ActionPlan plan)
    {
        ArgumentNullException.ThrowIfNull(plan);
        return Of(plan.Mutations);
    }

    public static string Of(IReadOnlyList<Mutation> mutations)
    {
        ArgumentNullException.ThrowIfNull(mutations);
        return Prefix + Convert.ToHexStringLower(SHA256.HashData(Canonical(mutations)));
    }

    /// <summary>The bytes that are hashed (exposed for tests and for explaining a digest).</summary>
    internal static byte[] Canonical(IReadOnlyList<Mutation> mutations)
    {
        using var buffer = new MemoryStream();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartArray();
            writer.WriteStringValue(Domain);
            foreach (var m in mutations)
            {
                writer.WriteStartObject();
                writer.WriteString("kind", m.Kind.ToString());
                writer.WriteString("namespace", m.Namespace);
                writer.WriteString("name", m.Name);
                writer.WriteString("resourceVersion", m.ResourceVersion);
                writer.WriteString("patchType", m.PatchType);
                WritePatch(writer, m.Patch);
                writer.WriteEndObject();
            }
            writer.WriteEndArray();
        }
        return buffer.ToArray();
    }

    public static bool IsDigest(string? text) =>
        text is { Length: 71 } && text.StartsWith(Prefix, StringComparison.Ordinal) && text.AsSpan(Prefix.Length).ContainsAnyExcept("0123456789abcdef") is false;

    /// <summary>"patch": the patch as canonical JSON; a patch that is not JSON (never produced by the actions) as
    /// "patchText": its exact text, under its own name so it cannot collide with a JSON patch.</summary>
    private static void WritePatch(Utf8JsonWriter writer, string? patch)
    {
        JsonNode? node = null;
        try
        {
            node = patch is null ? null : JsonNode.Parse(patch);
        }
        catch (JsonException)
        {
            writer.WriteString("patchText", patch);
            return;
        }
        writer.WritePropertyName("patch");
        WriteCanonical(writer, node);
    }

    private static void WriteCanonical(Utf8JsonWriter writer, JsonNode? node)
    {
        switch (node)
        {
            case null:
                writer.WriteNullValue();
                break;
            case JsonObject obj:
                writer.WriteStartObject();
                foreach (var (name, value) in obj.OrderBy(p => p.Key, StringComparer.Ordinal))
                {
                    writer.WritePropertyName(name);
                    WriteCanonical(writer, value);
                }
                writer.WriteEndObject();
                break;
            case JsonArray array:
                writer.WriteStartArray();
                foreach (var item in array)
                {
                    WriteCanonical(writer, item);
                }
                writer.WriteEndArray();
                break;
            default:
                node.WriteTo(writer);
                break;
        }
    }
}
