using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Remediation.Storage;
using Remediation.Text;

namespace Remediation.Http.History;

/// <summary>
/// Text as the history page shows it. Everything here returns plain text: the components HTML-encode it when they
/// write it, so nothing from an incident can become markup. <see cref="Shown"/> also escapes control, format (bidi)
/// and separator characters (<see cref="DisplayText"/>), so they can neither hide nor reorder what follows.
/// </summary>
internal static class HistoryFormat
{
    /// <summary>The states offered by the filter form, in the pipeline's order.</summary>
    public static readonly IReadOnlyList<string> States = [.. IncidentLifecycle.All.Select(s => s.ToString())];

    /// <summary><paramref name="text"/> with unsafe characters shown as <c>\u0007</c>; null is "".</summary>
    public static string Shown(string? text) => DisplayText.Escape(text);

    /// <summary>A state as a CSS class suffix (<c>state-failed</c>).</summary>
    public static string StateClass(string? state) => "state state-" + Shown(state).ToLowerInvariant();

    public static string Count(int count) => count.ToString("N0", CultureInfo.InvariantCulture);

    public static string Incidents(int count) => count == 1 ? " incident" : " incidents";

    public static string Time(DateTimeOffset time) => time.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Seconds(TimeSpan span) => span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + "s";

    /// <summary>Received, acted, completed (or verifying until), resolved: each with its offset from receipt.</summary>
    public static string Timings(IncidentRecord r)
    {
        ArgumentNullException.ThrowIfNull(r);
        var parts = new List<string> { "received " + Time(r.ReceivedAt) };
        if (r.ActedAt is { } acted)
        {
            parts.Add($"acted {Time(acted)} (+{Seconds(acted - r.ReceivedAt)})");
        }
        if (r.CompletedAt is { } completed)
        {
            parts.Add($"completed {Time(completed)} (+{Seconds(completed - r.ReceivedAt)})");
        }
        else if (r.VerifyDeadline is { } deadline)
        {
            parts.Add($"verifying until {Time(deadline)}");
        }
        if (r.ResolvedAt is { } resolved)
        {
            parts.Add("alert resolved " + Time(resolved));
        }
        return string.Join("; ", parts);
    }

    /// <summary>The JSON document, or a note that it could not be read; null when there is none.</summary>
    public static JsonNode? ParseOrNull(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            return JsonNode.Parse(json);
        }
        catch (JsonException)
        {
            return JsonValue.Create($"(unreadable JSON, {json.Length} characters)");
        }
    }

    /// <summary>The text of an object's property, shown safely ("" when absent or not an object).</summary>
    public static string Field(JsonNode? node, string property) => node is JsonObject o ? Shown(o[property]?.ToString()) : "";

    /// <summary>An object's array property's items (none when absent, not an array or not an object).</summary>
    public static IEnumerable<JsonNode?> Items(JsonNode? node, string property) =>
        node is JsonObject o && o[property] is JsonArray array ? array : [];

    /// <summary>The recorded plan, or null when there is none or it cannot be read (the page shows the rest).</summary>
    public static Remediation.Actions.ActionPlan? PlanOrNull(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }
        try
        {
            return JsonSerializer.Deserialize(json, Remediation.Actions.ActionJsonContext.Default.ActionPlan);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Pretty-printed JSON with unsafe characters escaped and line breaks kept (for a &lt;pre&gt;).</summary>
    public static string Pretty(string json)
    {
        var text = ParseOrNull(json) is { } node and (JsonObject or JsonArray) ? node.ToJsonString(PrettyOptions) : json;
        return DisplayText.Escape(text, keepLineBreaks: true);
    }

    private static readonly JsonSerializerOptions PrettyOptions = new()
    {
        WriteIndented = true,
        // The JSON shown is the stored alert, diagnosis and plan.
        TypeInfoResolver = System.Text.Json.Serialization.Metadata.JsonTypeInfoResolver.Combine(
            Alerts.AlertJsonContext.Default, Diagnosis.DiagnosisJsonContext.Default, Actions.ActionJsonContext.Default),
        // Only for readability: the page HTML-encodes the result.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };
}
