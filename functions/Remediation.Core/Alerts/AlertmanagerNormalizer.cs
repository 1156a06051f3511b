using System.Text.Json;

namespace Remediation.Alerts;

/// <summary>Parses an Alertmanager webhook body and turns each alert into a <see cref="NormalizedAlert"/>.</summary>
public static class AlertmanagerNormalizer
{
    public static IReadOnlyList<NormalizedAlert> Parse(ReadOnlySpan<byte> body)
    {
        AlertmanagerPayload? payload;
        try
        {
            payload = JsonSerializer.Deserialize(body, RemediationJsonContext.Default.AlertmanagerPayload);
        }
        catch (JsonException ex)
        {
            throw new AlertParseException(ex.Path is { Length: > 0 } path ? path : "$", $"malformed JSON: {FirstSentence(ex.Message)}");
        }
        if (payload is null)
        {
            throw new AlertParseException("$", "the body is JSON null; expected an Alertmanager webhook payload object");
        }
        return Normalize(payload);
    }

    public static IReadOnlyList<NormalizedAlert> Normalize(AlertmanagerPayload payload)
    {
        if (payload.Version is not null && payload.Version != "4")
        {
            throw new AlertParseException("$.version", $"unsupported Alertmanager payload version '{payload.Version}'; expected \"4\"");
        }
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

    internal static string FirstSentence(string message)
    {
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        return cut > 0 ? message[..cut] : message;
    }
}
