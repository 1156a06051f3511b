using Remediation.Alerts;

namespace Remediation.Ingest;

/// <summary>An alert of a delivery is too large to record once normalized; the delivery was refused whole.</summary>
public sealed class AlertTooLargeException(int index, string alertName, int maxChars)
    : ArgumentException($"alert {index} ('{(alertName.Length > 100 ? alertName[..100] + "…" : alertName)}') is larger than {maxChars} characters once normalized; shorten its labels and annotations")
{
    public int Index { get; } = index;
}

/// <summary>What happened to one alert of a delivery.</summary>
internal enum IngestOutcome
{
    Queued,
    Duplicate,
    Resolved,
    Escalated,
    Ignored,
    Refused,
}

/// <summary>What happened to each alert of a delivery.</summary>
public sealed record IngestResult(int Accepted, int Duplicates, int Resolved, int Escalated, IReadOnlyList<string> IncidentIds, int Ignored = 0, int Refused = 0)
{
    /// <summary>The counts of a delivery's outcomes, with its incident ids in the order of its alerts.</summary>
    internal static IngestResult Tally(IReadOnlyList<NormalizedAlert> alerts, IReadOnlyList<IngestOutcome> outcomes)
    {
        int accepted = 0, duplicates = 0, resolved = 0, escalated = 0, ignored = 0, refused = 0;
        var ids = new List<string>(alerts.Count);
        for (var i = 0; i < alerts.Count; i++)
        {
            ids.Add(alerts[i].IncidentId);
            switch (outcomes[i])
            {
                case IngestOutcome.Queued: accepted++; break;
                case IngestOutcome.Duplicate: duplicates++; break;
                case IngestOutcome.Resolved: resolved++; break;
                case IngestOutcome.Escalated: escalated++; break;
                case IngestOutcome.Ignored: ignored++; break;
                case IngestOutcome.Refused: refused++; break;
            }
        }
        return new IngestResult(accepted, duplicates, resolved, escalated, ids, ignored, refused);
    }
}
