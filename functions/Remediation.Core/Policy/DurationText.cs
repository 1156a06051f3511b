using System.Globalization;

namespace Remediation.Policy;

/// <summary>Durations as operators write them: 90s, 10m, 1h30m, or a TimeSpan (00:10:00).</summary>
public static class DurationText
{
    /// <summary>A duration as the policy writes it and <see cref="TryParse"/> reads it: 10m, 1h30m, 48h, 90s as 1m30s (0s for zero); parts under a second are dropped.</summary>
    public static string Format(TimeSpan value)
    {
        var hours = value <= TimeSpan.Zero ? 0 : (long)value.TotalHours;
        var text = (hours > 0 ? $"{hours}h" : "") + (value.Minutes > 0 ? $"{value.Minutes}m" : "") + (value.Seconds > 0 ? $"{value.Seconds}s" : "");
        return value <= TimeSpan.Zero || text.Length == 0 ? "0s" : text;
    }

    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && text.Contains(':', StringComparison.Ordinal))
        {
            return value >= TimeSpan.Zero;
        }
        var match = System.Text.RegularExpressions.Regex.Match(text, @"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$");
        if (!match.Success || text.Length == 0)
        {
            return false;
        }
        value = new TimeSpan(
            match.Groups[1].Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            match.Groups[3].Success ? int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : 0);
        return true;
    }
}
