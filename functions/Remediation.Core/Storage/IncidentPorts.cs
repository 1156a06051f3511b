namespace Remediation.Storage;

/// <summary>
/// The incident store as the ingestor, pipeline, verifier and poison handler use it: claims, conditional summary changes
/// (ETag; a lost race is re-read and re-applied, an illegal state move is declined) and insert-only step rows.
/// </summary>
public interface IIncidentStore
{
    /// <summary>Inserts the incident row; false when it already exists (a duplicate delivery).</summary>
    Task<bool> TryClaimAsync(IncidentRecord record, CancellationToken cancellationToken = default);

    /// <summary>Deletes a claim if it is unchanged since the insert; false when another writer changed it or it is gone.</summary>
    Task<bool> TryDeleteClaimAsync(IncidentRecord claimed, CancellationToken cancellationToken = default);

    Task<IncidentRecord?> GetAsync(string incidentId, CancellationToken cancellationToken = default);

    /// <summary>The summary row's <paramref name="columns"/> only (with its ETag); null when there is none.</summary>
    Task<IncidentRecord?> GetColumnsAsync(string incidentId, IReadOnlyList<string> columns, CancellationToken cancellationToken = default);

    /// <summary>Read → apply → conditional write of the summary row; see <see cref="IncidentStore.UpdateAsync"/>.</summary>
    Task<IncidentUpdate> UpdateAsync(string incidentId, Func<IncidentRecord, bool> apply, IncidentRecord? current = null, CancellationToken cancellationToken = default);

    /// <summary>Sets RequeuedAt alone if the row is unchanged since it was read; false on a lost race.</summary>
    Task<bool> TryMarkRequeuedAsync(IncidentRecord record, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>Inserts an insert-only step row; false when it exists already.</summary>
    Task<bool> TryAddStepAsync(IncidentStepRecord step, CancellationToken cancellationToken = default);

    /// <summary>Inserts step rows and changes the summary in one transaction; see <see cref="IncidentStore.TryAddStepsAndUpdateAsync"/>.</summary>
    Task<IncidentUpdate> TryAddStepsAndUpdateAsync(IReadOnlyList<IncidentStepRecord> steps, IncidentRecord current, Func<IncidentRecord, bool> apply, CancellationToken cancellationToken = default);

    Task<IncidentStepRecord?> GetStepAsync(string incidentId, string step, CancellationToken cancellationToken = default);

    /// <summary>Replaces a step row if unchanged since it was read (ETag); false on a lost race.</summary>
    Task<bool> TryUpdateStepAsync(IncidentStepRecord step, CancellationToken cancellationToken = default);

    /// <summary>Every incident summary the query selects, newest first (a scan: the sweep reads the open incidents this way).</summary>
    Task<IReadOnlyList<IncidentRecord>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default);
}

/// <summary>The read side of the incidents, for the history page, the API and the CLI.</summary>
public interface IIncidentHistory
{
    Task<IncidentRecord?> GetAsync(string incidentId, CancellationToken cancellationToken = default);

    /// <summary>One page of summaries; see <see cref="IncidentStore.ListPageAsync"/> for the order and the bounds.</summary>
    Task<IncidentPage> ListPageAsync(IncidentQuery query, int pageSize, IncidentCursor? from = null, CancellationToken cancellationToken = default);

    /// <summary>Incidents per state, counted over at most <paramref name="maxRows"/> rows.</summary>
    Task<IncidentCounts> CountByStateAsync(IncidentQuery query, int maxRows = IncidentStore.DefaultMaxCounted, CancellationToken cancellationToken = default);

    Task<IncidentStepRecord?> GetStepAsync(string incidentId, string step, CancellationToken cancellationToken = default);
}

/// <summary>
/// Remediations in flight: a registration per incident from before it leaves Received to act (or to ask for approval)
/// until it concludes. The global concurrency cap counts the registrations that have not expired (a dry run's never
/// counts); the sweep reads them all as the index of the incidents under way, instead of scanning every incident. A
/// registration whose removal was lost is removed by the sweep once its incident has concluded.
/// </summary>
public interface IInFlightRemediations
{
    /// <summary>Registers the incident; it counts toward the cap until <paramref name="countsUntil"/> (now or earlier: never).</summary>
    Task AddInFlightAsync(string incidentId, DateTimeOffset countsUntil, CancellationToken cancellationToken = default);

    Task RemoveInFlightAsync(string incidentId, CancellationToken cancellationToken = default);

    /// <summary>Remediations counting at <paramref name="now"/>, other than <paramref name="exceptIncidentId"/>.</summary>
    Task<int> CountInFlightAsync(string exceptIncidentId, DateTimeOffset now, CancellationToken cancellationToken = default);

    /// <summary>Every registration, counting or not (one partition).</summary>
    Task<IReadOnlyList<InFlightRegistration>> ListInFlightAsync(CancellationToken cancellationToken = default);

    /// <summary>Removes a registration if it is unchanged since it was listed; false when it was registered again or is gone.</summary>
    Task<bool> TryRemoveInFlightAsync(InFlightRegistration registration, CancellationToken cancellationToken = default);
}

/// <summary>One registration of <see cref="IInFlightRemediations"/>, with its version (for a conditional removal).</summary>
public sealed record InFlightRegistration(string IncidentId, DateTimeOffset CountsUntil, Azure.ETag Version);

/// <summary>
/// The history and in-flight ports when no storage is configured (the CLI planning without storage): nothing recorded,
/// nothing in flight; a write says storage is not configured.
/// </summary>
public sealed class NoIncidentStorage : IIncidentHistory, IInFlightRemediations
{
    public static NoIncidentStorage Instance { get; } = new();

    public Task<IncidentRecord?> GetAsync(string incidentId, CancellationToken cancellationToken = default) => Task.FromResult<IncidentRecord?>(null);

    public Task<IncidentPage> ListPageAsync(IncidentQuery query, int pageSize, IncidentCursor? from = null, CancellationToken cancellationToken = default) =>
        Task.FromResult(new IncidentPage([], null));

    public Task<IncidentCounts> CountByStateAsync(IncidentQuery query, int maxRows = IncidentStore.DefaultMaxCounted, CancellationToken cancellationToken = default) =>
        Task.FromResult(new IncidentCounts(new Dictionary<string, int>(), 0, Complete: true));

    public Task<IncidentStepRecord?> GetStepAsync(string incidentId, string step, CancellationToken cancellationToken = default) => Task.FromResult<IncidentStepRecord?>(null);

    public Task AddInFlightAsync(string incidentId, DateTimeOffset expiresAt, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task RemoveInFlightAsync(string incidentId, CancellationToken cancellationToken = default) => throw NotConfigured();

    public Task<int> CountInFlightAsync(string exceptIncidentId, DateTimeOffset now, CancellationToken cancellationToken = default) => Task.FromResult(0);

    public Task<IReadOnlyList<InFlightRegistration>> ListInFlightAsync(CancellationToken cancellationToken = default) =>
        Task.FromResult<IReadOnlyList<InFlightRegistration>>([]);

    public Task<bool> TryRemoveInFlightAsync(InFlightRegistration registration, CancellationToken cancellationToken = default) => throw NotConfigured();

    internal static InvalidOperationException NotConfigured() => new("storage is not configured: nothing can be recorded");
}
