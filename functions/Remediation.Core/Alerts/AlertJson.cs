using System.Globalization;
using System.Text.Json;

namespace Remediation.Alerts;

/// <summary>
/// Reading the fields of an alert payload: each missing or mistyped field is an <see cref="AlertParseException"/>
/// naming its JSON path (a 400 problem+json), never an exception of the JSON reader.
/// </summary>
internal static class AlertJson
{
    /// <summary>What a string that cannot be read as text is, for a refusal.</summary>
    public const string UnreadableText = "not valid text: it holds an unpaired UTF-16 surrogate escape (\\ud800-\\udfff without its pair)";

    /// <summary>
    /// JsonElement.GetString throws InvalidOperationException on an escaped lone surrogate ("\ud800"): a 400 naming the
    /// first string (value or property name) of <paramref name="root"/> that cannot be read (without a document, the body),
    /// not a 500.
    /// </summary>
    public static AlertParseException UnreadableString(JsonElement root = default) =>
        Unreadable(root, "$") is { } path ? new(path, $"{path}: {UnreadableText}") : new("$", $"a JSON string is {UnreadableText}");

    /// <summary>
    /// Refuses, naming it, the first string of <paramref name="root"/> that is not text, before a reader that would say
    /// so in its own words reads it. Only a body with a surrogate escape (\uD800-\uDFFF) is walked.
    /// </summary>
    public static void RequireText(JsonElement root, ReadOnlySpan<byte> body)
    {
        if (HasSurrogateEscape(body) && Unreadable(root, "$") is { } path)
        {
            throw new AlertParseException(path, $"{path}: {UnreadableText}");
        }
    }

    private static bool HasSurrogateEscape(ReadOnlySpan<byte> body)
    {
        var rest = body;
        while (rest.IndexOf("\\u"u8) is var at and >= 0)
        {
            if (at + 3 < rest.Length && rest[at + 2] is (byte)'d' or (byte)'D' && "89abcdefABCDEF"u8.Contains(rest[at + 3]))
            {
                return true;
            }
            rest = rest[(at + 2)..];
        }
        return false;
    }

    /// <summary>The path of the first string or property name under <paramref name="element"/> that cannot be read as text; null when all can.</summary>
    private static string? Unreadable(JsonElement element, string path)
    {
        switch (element.ValueKind)
        {
            case JsonValueKind.Object:
                foreach (var property in element.EnumerateObject())
                {
                    if (Text(() => property.Name) is not { } name)
                    {
                        return $"{path} (a property name)";
                    }
                    if (Unreadable(property.Value, $"{path}.{name}") is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.Array:
                var i = 0;
                foreach (var item in element.EnumerateArray())
                {
                    if (Unreadable(item, $"{path}[{i++}]") is { } inner)
                    {
                        return inner;
                    }
                }
                return null;
            case JsonValueKind.String:
                return Text(element.GetString) is null ? path : null;
            default:
                return null;
        }
    }

    /// <summary>What <paramref name="read"/> reads; null when the JSON string is not valid text (the reader throws then).</summary>
    private static string? Text(Func<string?> read)
    {
        try
        {
            return read() ?? "";
        }
        catch (InvalidOperationException)
        {
            // Not a failure to hide: it is the answer (this string is unreadable), and the caller names its path.
            return null;
        }
    }

    /// <summary>
    /// JsonDocument checks UTF-8 only when a string is read (InvalidOperationException, a 500): check the whole body first.
    /// </summary>
    public static void RequireUtf8(ReadOnlySpan<byte> body, string field)
    {
        if (!System.Text.Unicode.Utf8.IsValid(body))
        {
            throw new AlertParseException(field, "the body is not valid UTF-8 text; expected a JSON payload encoded as UTF-8");
        }
    }

    public static string? NonEmpty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    public static void CopyString(JsonElement parent, string property, Dictionary<string, string> into, string key)
    {
        if (parent.TryGetProperty(property, out var value) && value.ValueKind == JsonValueKind.String && value.GetString() is { Length: > 0 } text)
        {
            into.TryAdd(key, text);
        }
    }

    /// <summary>
    /// Copies the string members of the optional object <paramref name="property"/> into <paramref name="into"/> (absent or
    /// null: none; members of other kinds are skipped); a value that is not an object is refused, naming it.
    /// </summary>
    public static void CopyStrings(JsonElement parent, string property, string path, Dictionary<string, string> into)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return;
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException($"{path}.{property}", $"expected an object of names to strings, not {Kind(value)}");
        }
        foreach (var member in value.EnumerateObject())
        {
            if (member.Value.ValueKind == JsonValueKind.String)
            {
                into[member.Name] = member.Value.GetString()!;
            }
        }
    }

    public static JsonElement RequiredObject(JsonElement parent, string property, string path)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            throw new AlertParseException($"{path}.{property}", $"required field '{property}' is missing; expected an object");
        }
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException($"{path}.{property}", $"'{property}' must be an object, not {Kind(value)}");
        }
        return value;
    }

    public static string RequiredString(JsonElement parent, string property, string path) =>
        OptionalString(parent, property, path) is { Length: > 0 } value
            ? value
            : throw new AlertParseException($"{path}.{property}", $"required field '{property}' is missing or empty");

    public static string? OptionalString(JsonElement parent, string property, string path)
    {
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }
        return value.ValueKind == JsonValueKind.String
            ? value.GetString()
            : throw new AlertParseException($"{path}.{property}", $"'{property}' must be a string, not {Kind(value)}");
    }

    public static List<string> OptionalStrings(JsonElement parent, string property, string path)
    {
        var result = new List<string>();
        if (!parent.TryGetProperty(property, out var value) || value.ValueKind == JsonValueKind.Null)
        {
            return result;
        }
        if (value.ValueKind != JsonValueKind.Array)
        {
            throw new AlertParseException($"{path}.{property}", $"'{property}' must be an array of strings, not {Kind(value)}");
        }
        var i = 0;
        foreach (var item in value.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new AlertParseException($"{path}.{property}[{i}]", $"expected a string, not {Kind(item)}");
            }
            result.Add(item.GetString()!);
            i++;
        }
        return result;
    }

    public static DateTimeOffset RequiredTime(JsonElement parent, string property, string path) =>
        OptionalTime(parent, property, path)
            ?? throw new AlertParseException($"{path}.{property}", $"required field '{property}' is missing; expected an ISO 8601 UTC time");

    public static DateTimeOffset? OptionalTime(JsonElement parent, string property, string path)
    {
        var text = OptionalString(parent, property, path);
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }
        return DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : throw new AlertParseException($"{path}.{property}", $"'{property}' is not an ISO 8601 time: '{text}'");
    }

    /// <summary>What a JSON value is, in words for an error message ("an array", "null").</summary>
    public static string Kind(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
