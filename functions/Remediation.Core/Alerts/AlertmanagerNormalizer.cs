using System.Text.Json;

namespace Remediation.Alerts;

/// <summary>Parses an Alertmanager webhook body and turns each alert into a <see cref="NormalizedAlert"/>.</summary>
public static class AlertmanagerNormalizer
{
    /// <summary>The webhook payload version this product reads.</summary>
    public const string SupportedVersion = "4";

    public static IReadOnlyList<NormalizedAlert> Parse(ReadOnlySpan<byte> body)
    {
        // Another version's fields have other types (version 3's groupKey is a number): say which versions are
        // supported before a full read fails on such a field.
        RequireSupportedVersion(ReadVersion(body));
        AlertmanagerPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(body, AlertJsonContext.Default.AlertmanagerPayload);
        }
        catch (JsonException ex)
        {
            throw JsonErrorText.ToParseException(ex, Expected);
        }
        if (payload is null)
        {
            throw new AlertParseException("$", "the body is JSON null; expected an Alertmanager webhook payload object");
        }
        return Normalize(payload);
    }

    public static IReadOnlyList<NormalizedAlert> Normalize(AlertmanagerPayload payload)
    {
        RequireSupportedVersion(payload.Version);
        if (payload.Alerts is null)
        {
            throw new AlertParseException("$.alerts", "required field 'alerts' is missing; expected an array of alerts");
        }
        var result = new List<NormalizedAlert>(payload.Alerts.Count);
        for (var i = 0; i < payload.Alerts.Count; i++)
        {
            result.Add(NormalizeAlert(payload, payload.Alerts[i], $"$.alerts[{i}]"));
        }
        return result;
    }

    private static NormalizedAlert NormalizeAlert(AlertmanagerPayload payload, AlertmanagerAlert? alert, string path)
    {
        if (alert is null)
        {
            throw new AlertParseException(path, "alert is null; expected an object");
        }
        var status = (alert.Status ?? payload.Status) switch
        {
            "firing" => AlertStatus.Firing,
            "resolved" => AlertStatus.Resolved,
            null => throw new AlertParseException($"{path}.status", "required field 'status' is missing; expected \"firing\" or \"resolved\""),
            var other => throw new AlertParseException($"{path}.status", $"unknown status '{other}'; expected \"firing\" or \"resolved\""),
        };
        if (alert.Labels is null || alert.Labels.Count == 0)
        {
            throw new AlertParseException($"{path}.labels", "required field 'labels' is missing or empty; an alert needs at least 'alertname'");
        }
        if (!alert.Labels.TryGetValue("alertname", out var name) || string.IsNullOrWhiteSpace(name))
        {
            throw new AlertParseException($"{path}.labels.alertname", "required label 'alertname' is missing");
        }
        if (alert.StartsAt is not { } startsAt)
        {
            throw new AlertParseException($"{path}.startsAt", "required field 'startsAt' is missing; expected an RFC 3339 time");
        }
        var labels = new Dictionary<string, string>(alert.Labels, StringComparer.Ordinal);
        var (target, problem, problemKind) = TargetResolver.ResolveWithKind(labels);
        // Alertmanager sends endsAt "0001-01-01T00:00:00Z" while an alert fires.
        DateTimeOffset? endsAt = alert.EndsAt is { } e && e.Year > 1 ? e : null;
        return new NormalizedAlert
        {
            Source = AlertSource.Alertmanager,
            Name = name,
            Status = status,
            Fingerprint = string.IsNullOrWhiteSpace(alert.Fingerprint) ? IncidentIdentity.FingerprintOf(labels) : alert.Fingerprint,
            StartsAt = startsAt,
            EndsAt = endsAt,
            Severity = labels.GetValueOrDefault("severity"),
            Labels = labels,
            Annotations = alert.Annotations ?? new Dictionary<string, string>(),
            GeneratorUrl = alert.GeneratorUrl,
            Target = target,
            TargetProblem = problem,
            TargetProblemKind = problemKind,
        };
    }

    private static void RequireSupportedVersion(string? version)
    {
        if (version is not null && version != SupportedVersion)
        {
            throw new AlertParseException("$.version", $"Alertmanager webhook payload version \"{version}\" is not supported; expected version \"{SupportedVersion}\"");
        }
    }

    /// <summary>
    /// The top-level "version" of a payload as text (a number as written), or null when it is absent or null. Malformed
    /// JSON yields null here: the full read that follows reports it with its position.
    /// </summary>
    private static string? ReadVersion(ReadOnlySpan<byte> body)
    {
        var reader = new Utf8JsonReader(body, new JsonReaderOptions { MaxDepth = 64 });
        try
        {
            if (!reader.Read() || reader.TokenType != JsonTokenType.StartObject)
            {
                return null;
            }
            while (reader.Read() && reader.TokenType == JsonTokenType.PropertyName)
            {
                var isVersion = reader.ValueTextEquals("version"u8);
                if (!reader.Read())
                {
                    return null;
                }
                if (isVersion)
                {
                    return reader.TokenType switch
                    {
                        JsonTokenType.String => reader.GetString(),
                        JsonTokenType.Number => System.Text.Encoding.UTF8.GetString(reader.ValueSpan),
                        _ => null,
                    };
                }
                reader.Skip();
            }
            return null;
        }
        catch (JsonException)
        {
            // Not JSON (or not readable as text here): Deserialize reports it with its path.
            return null;
        }
        catch (InvalidOperationException)
        {
            // An escaped lone surrogate in the version string: Deserialize reports it.
            return null;
        }
    }

    /// <summary>A JSON error message without its path tail and without .NET type names.</summary>
    internal static string FirstSentence(string message) => JsonErrorText.Plain(message);

    /// <summary>The expected form of the value at a path of an Alertmanager payload.</summary>
    private static string? Expected(string path)
    {
        var field = path[(path.LastIndexOf('.') + 1)..];
        return field switch
        {
            "$" => "an Alertmanager webhook payload object",
            "startsAt" or "endsAt" => JsonErrorText.Rfc3339Example,
            "alerts" => "an array of alert objects",
            "labels" or "annotations" or "groupLabels" or "commonLabels" or "commonAnnotations" => "an object of string values",
            "truncatedAlerts" => "an integer",
            _ when field.StartsWith("alerts[", StringComparison.Ordinal) => "an alert object",
            _ when path.Contains("abels.", StringComparison.Ordinal) || path.Contains("nnotations.", StringComparison.Ordinal) => "a string",
            "version" or "groupKey" or "status" or "receiver" or "externalURL" or "generatorURL" or "fingerprint" => "a string",
            _ => null,
        };
    }
}
