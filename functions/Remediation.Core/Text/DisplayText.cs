using System.Globalization;
using System.Text;

namespace Remediation.Text;

/// <summary>
/// Text from alerts (labels, annotations, reasons) made safe to show on a terminal or a page: control characters
/// (NUL, BEL, ESC, ...), format characters (the bidi overrides U+202E and friends, zero-width characters), line and
/// paragraph separators and lone surrogates are written as <c>\u0007</c>, so they can be seen and can neither ring,
/// move the cursor nor reorder what follows. Everything else, including valid surrogate pairs (emoji), is unchanged.
/// </summary>
public static class DisplayText
{
    /// <summary>True for a character that is shown escaped (a lone surrogate is checked by <see cref="Escape"/>).</summary>
    public static bool IsUnsafe(char c) =>
        char.IsControl(c) || char.GetUnicodeCategory(c) is UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator;

    /// <summary>The escaped form of one character: <c>\u00xx</c>, lower-case hex.</summary>
    public static void AppendEscaped(StringBuilder builder, char c)
    {
        ArgumentNullException.ThrowIfNull(builder);
        builder.Append(CultureInfo.InvariantCulture, $"\\u{(int)c:x4}");
    }

    /// <summary>
    /// <paramref name="text"/> with every unsafe character escaped; with <paramref name="keepLineBreaks"/>, '\n' (and '\r'
    /// before it) stay as they are (pretty-printed JSON in a &lt;pre&gt;). Null is "".
    /// </summary>
    public static string Escape(string? text, bool keepLineBreaks = false)
    {
        if (string.IsNullOrEmpty(text))
        {
            return "";
        }
        var i = 0;
        while (i < text.Length && !NeedsEscape(text, i, keepLineBreaks))
        {
            i += char.IsHighSurrogate(text[i]) ? 2 : 1;
        }
        if (i >= text.Length)
        {
            return text;
        }
        var builder = new StringBuilder(text.Length + 16).Append(text, 0, i);
        while (i < text.Length)
        {
            if (NeedsEscape(text, i, keepLineBreaks))
            {
                AppendEscaped(builder, text[i++]);
            }
            else if (char.IsHighSurrogate(text[i]))
            {
                builder.Append(text, i, 2);
                i += 2;
            }
            else
            {
                builder.Append(text[i++]);
            }
        }
        return builder.ToString();
    }

    private static bool NeedsEscape(string text, int i, bool keepLineBreaks)
    {
        var c = text[i];
        if (keepLineBreaks && (c == '\n' || (c == '\r' && i + 1 < text.Length && text[i + 1] == '\n')))
        {
            return false;
        }
        if (char.IsHighSurrogate(c))
        {
            return i + 1 >= text.Length || !char.IsLowSurrogate(text[i + 1]);
        }
        return char.IsLowSurrogate(c) || IsUnsafe(c);
    }
}
