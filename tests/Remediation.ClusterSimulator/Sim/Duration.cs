using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.RegularExpressions;

namespace Remediation.ClusterSimulator;

/// <summary>Parses Go-style durations ("90s", "10m", "1h30m", "2d", "500ms") or plain seconds.</summary>
internal static partial class Duration
{
    public static TimeSpan Parse(string text)
    {
        var t = text.Trim();
        if (double.TryParse(t, NumberStyles.Float, CultureInfo.InvariantCulture, out var seconds))
        {
            return TimeSpan.FromSeconds(seconds);
        }

        var matches = Part().Matches(t);
        if (matches.Count == 0 || string.Concat(matches.Select(m => m.Value)) != t)
        {
            throw new FormatException($"invalid duration \"{text}\" (use e.g. 30s, 10m, 1h30m, 2d)");
        }

        var total = TimeSpan.Zero;
        foreach (Match m in matches)
        {
            var v = double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            total += m.Groups[2].Value switch
            {
                "ms" => TimeSpan.FromMilliseconds(v),
                "s" => TimeSpan.FromSeconds(v),
                "m" => TimeSpan.FromMinutes(v),
                "h" => TimeSpan.FromHours(v),
                _ => TimeSpan.FromDays(v),
            };
        }

        return total;
    }

    [GeneratedRegex(@"([0-9]+(?:\.[0-9]+)?)(ms|s|m|h|d)")]
    private static partial Regex Part();
}

/// <summary>JSON converter for TimeSpan? accepting "10m" style strings or numbers of seconds.</summary>
public sealed class DurationConverter : JsonConverter<TimeSpan?>
{
    public override TimeSpan? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) => reader.TokenType switch
    {
        JsonTokenType.Null => null,
        JsonTokenType.Number => TimeSpan.FromSeconds(reader.GetDouble()),
        JsonTokenType.String => Duration.Parse(reader.GetString() ?? "0"),
        _ => throw new JsonException("expected a duration"),
    };

    public override void Write(Utf8JsonWriter writer, TimeSpan? value, JsonSerializerOptions options)
    {
        if (value is null)
        {
            writer.WriteNullValue();
        }
        else
        {
            writer.WriteStringValue(value.Value.TotalSeconds.ToString(CultureInfo.InvariantCulture) + "s");
        }
    }
}
