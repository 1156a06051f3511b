namespace Remediation.Storage;

/// <summary>What a conditional change of a summary row did.</summary>
public enum IncidentWriteOutcome
{
    /// <summary>The change (and any step rows) was written.</summary>
    Written,
    /// <summary>The change no longer applies to the row as it is now (another writer moved it on); nothing written.</summary>
    Declined,
    /// <summary>No summary row; step rows, if any, were written alone.</summary>
    Missing,
    /// <summary>A step row exists already (another worker got there first); nothing written.</summary>
    StepExists,
}

/// <summary>The outcome of a summary-row change and the row as it is now: as written, or as last read when not written.</summary>
public sealed record IncidentUpdate(IncidentWriteOutcome Outcome, IncidentRecord? Record)
{
    public bool Written => Outcome == IncidentWriteOutcome.Written;
}

/// <summary>A history query; <paramref name="Select"/> reads only those columns (the others keep their defaults).</summary>
public sealed record IncidentQuery(string? Namespace = null, string? Workload = null, string? State = null, DateTimeOffset? Since = null,
    IReadOnlyList<IncidentState>? States = null, IReadOnlyList<string>? Select = null);

/// <summary>One page of history: its incidents (newest first) and where the next page starts (null: this was the last).</summary>
public sealed record IncidentPage(IReadOnlyList<IncidentRecord> Incidents, IncidentCursor? Continuation);

/// <summary>Incidents per state; <see cref="Complete"/> is false when counting stopped at its bound.</summary>
public sealed record IncidentCounts(IReadOnlyDictionary<string, int> ByState, int Total, bool Complete);
