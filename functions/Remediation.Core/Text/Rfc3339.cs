using System.Globalization;

namespace Remediation.Text;

/// <summary>
/// RFC 3339 times as senders and people write them: date, 'T' (or a space), time, an optional fraction, 'Z' or an
/// offset; 't' and 'z' in lower case too. Never a culture's date (1/2/2026 is two dates) nor an RFC 1123 one.
/// </summary>
public static partial class Rfc3339
{
    private static readonly string[] Times =
        ["yyyy-MM-dd'T'HH:mm:ssK", "yyyy-MM-dd'T'HH:mm:ss.FFFFFFFK", "yyyy-MM-dd' 'HH:mm:ssK", "yyyy-MM-dd' 'HH:mm:ss.FFFFFFFK"];

    private static readonly string[] TimesAndDates = [.. Times, "yyyy-MM-dd"];

    /// <summary>
    /// The time <paramref name="text"/> writes (UTC); with <paramref name="orDate"/>, a date alone is its midnight UTC. Null
    /// otherwise. A fraction finer than 100 ns (Go's nanoseconds) is cut to what the clock holds.
    /// </summary>
    public static DateTimeOffset? Parse(string? text, bool orDate = false)
    {
        if (text is null)
        {
            return null;
        }
        var normalized = FinerThanTicks().Replace(text.Trim().ToUpperInvariant(), "$1");
        return DateTimeOffset.TryParseExact(normalized, orDate ? TimesAndDates : Times, CultureInfo.InvariantCulture,
            DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var time)
            ? time
            : null;
    }

    [System.Text.RegularExpressions.GeneratedRegex(@"(\.\d{7})\d+")]
    private static partial System.Text.RegularExpressions.Regex FinerThanTicks();
}
