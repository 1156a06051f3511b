using System.Text.Json;
using System.Text.RegularExpressions;

namespace Remediation.Alerts;

/// <summary>
/// Turns System.Text.Json's messages into plain ones for the sender: the JSON path of the offending value and the
/// expected form ("$.alerts[0].startsAt: expected an RFC 3339 time such as 2026-11-30T04:30:00Z"), never a .NET type
/// name. Shared by every parser of outside input.
/// </summary>
public static partial class JsonErrorText
{
    public const string Rfc3339Example = "an RFC 3339 time such as 2026-11-30T04:30:00Z";

    /// <summary>
    /// The field and message of a <see cref="JsonException"/>. <paramref name="expectedAt"/> may name the expected form
    /// of a path ("an RFC 3339 time ..."); otherwise it is derived from the message.
    /// </summary>
    public static AlertParseException ToParseException(JsonException ex, Func<string, string?>? expectedAt = null)
    {
        ArgumentNullException.ThrowIfNull(ex);
        var path = ex.Path is { Length: > 0 } p ? p : "$";
        return new AlertParseException(path, Describe(ex, path, expectedAt));
    }

    /// <summary>The plain message for <paramref name="ex"/> at <paramref name="path"/>.</summary>
    public static string Describe(JsonException ex, string path, Func<string, string?>? expectedAt = null)
    {
        ArgumentNullException.ThrowIfNull(ex);
        ArgumentNullException.ThrowIfNull(path);
        var message = ex.Message;
        if (ex.InnerException is InvalidOperationException { Message: var inner } && (inner.Contains("surrogate", StringComparison.OrdinalIgnoreCase) || inner.Contains("UTF-16", StringComparison.Ordinal)))
        {
            // A string that is one, but not valid text: say so, not "expected a string".
            return $"{path}: {AlertJson.UnreadableText}";
        }
        if (message.Contains("could not be converted to", StringComparison.Ordinal) || ex.InnerException is FormatException or InvalidOperationException)
        {
            // A value of the wrong type or form: name the path and what belongs there.
            var expected = expectedAt?.Invoke(path) ?? ExpectedFromTypeName(message) ?? "a value of another type";
            return $"{path}: expected {expected}";
        }
        var plain = Scrub(FirstSentence(message));
        return ex.LineNumber is { } line && ex.BytePositionInLine is { } position
            ? $"malformed JSON at line {line + 1}, byte {position + 1}: {plain}"
            : $"malformed JSON: {plain}";
    }

    /// <summary>A message without System.Text.Json's " Path: … | LineNumber: …" tail and without .NET type names.</summary>
    public static string Plain(string message)
    {
        ArgumentNullException.ThrowIfNull(message);
        return Scrub(FirstSentence(message));
    }

    private static string FirstSentence(string message)
    {
        foreach (var marker in (string[])[" Path:", " LineNumber:"])
        {
            var cut = message.IndexOf(marker, StringComparison.Ordinal);
            if (cut > 0)
            {
                message = message[..cut];
            }
        }
        return message.Trim();
    }

    private static string? ExpectedFromTypeName(string message)
    {
        var match = ConvertedTo().Match(message);
        if (!match.Success)
        {
            return null;
        }
        var type = match.Groups[1].Value;
        return type switch
        {
            _ when type.Contains("DateTime", StringComparison.Ordinal) => Rfc3339Example,
            _ when type.Contains("TimeSpan", StringComparison.Ordinal) => "a duration such as 00:05:00",
            _ when type.Contains("Dictionary", StringComparison.Ordinal) => "an object of string values",
            _ when type.Contains("List", StringComparison.Ordinal) || type.EndsWith("[]", StringComparison.Ordinal) => "an array",
            "System.String" => "a string",
            "System.Boolean" => "true or false",
            "System.Int32" or "System.Int64" or "System.Int16" or "System.UInt32" or "System.UInt64" => "an integer",
            "System.Double" or "System.Single" or "System.Decimal" => "a number",
            _ when type.StartsWith("System.Nullable", StringComparison.Ordinal) => null,
            _ => "an object",
        };
    }

    /// <summary>Without .NET type names and the reader's own parameter names (", when isFinalBlock is true").</summary>
    private static string Scrub(string text) => ReaderParameter().Replace(TypeName().Replace(text, "a value"), "");

    [GeneratedRegex(@",? when isFinalBlock is (?:true|false)")]
    private static partial Regex ReaderParameter();

    [GeneratedRegex(@"could not be converted to ([\w.`\[\], ]+?)\.?(?: Path:|$)")]
    private static partial Regex ConvertedTo();

    [GeneratedRegex(@"\b(?:System|Microsoft|Remediation|Azure)\.[\w.`]+(?:\[[^\]]*\])?")]
    private static partial Regex TypeName();
}
