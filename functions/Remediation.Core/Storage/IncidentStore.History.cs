using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>History queries: scans, pages and per-state counts of the summary rows.</summary>
public sealed partial class IncidentStore
{
    /// <summary>
    /// Every incident summary the query selects, in the order of <see cref="ListPageAsync"/> (newest started first): a
    /// scan of all of them (the sweep and the verifier read the open incidents this way). History is read a page at a
    /// time with <see cref="ListPageAsync"/>.
    /// </summary>
    public async Task<IReadOnlyList<IncidentRecord>> ListAsync(IncidentQuery query, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        return [.. (await QueryAllAsync<IncidentRecord>(Filter(query), query.Select, cancellationToken).ConfigureAwait(false)).Select(r => r.MarkStored())];
    }

    /// <summary>
    /// The columns a history listing shows (the API's and the CLI's incident view): everything but the alert as received
    /// (AlertJson, the largest column), the approval bookkeeping and the worker's own fields. A projection: Table Storage
    /// then sends only these.
    /// </summary>
    public static readonly IReadOnlyList<string> ListColumns =
    [
        "PartitionKey", "RowKey", "State", "Source", "AlertName", "Namespace", "Workload", "Severity", "StartsAt", "ReceivedAt", "ResolvedAt",
        "DiagnosisClass", "DiagnosisSummary", "DiagnosisJson", "Action", "PlanJson", "PriorStateJson", "Outcome", "OutcomeReason", "ActedAt",
        "CompletedAt", "GroupId",
    ];

    /// <summary>Most round trips to Table Storage for one page; a selective filter over many rows may end a page short.</summary>
    public const int MaxRoundTripsPerPage = 20;

    /// <summary>
    /// One page of incident summaries from <paramref name="from"/> (null: the start), at most <paramref name="pageSize"/>.
    /// <para>
    /// Order: newest first by when the alert started firing (Alertmanager's startsAt, Azure Monitor's firedDateTime),
    /// across pages and within each; incidents that started in the same millisecond in incident id order. That is
    /// Table Storage's own order, (PartitionKey, RowKey): each incident is one partition, and the id begins with the
    /// start time counted down (<see cref="Remediation.Alerts.IncidentIdentity.For"/>), so the newest page is the first
    /// rows of the table and no page reads more than it returns. The other partitions of the table (the ledger's
    /// "target|…", groups' "group|…") sort after every id (ids are hex digits) and have no summary row.
    /// </para>
    /// <para>
    /// The page's continuation is Table Storage's (the key of the next row to scan), so paging is stable and complete:
    /// every incident that exists when the first page is read, and is not deleted, is in exactly one page, whatever
    /// arrives in between. An incident that starts firing while paging sorts before the position reached and is not
    /// in this pass (it is on the next first page); one recorded late with an older start time appears if its place is
    /// still ahead.
    /// </para>
    /// A page can hold fewer than <paramref name="pageSize"/> incidents (filters are applied by the service as it scans,
    /// and one page makes at most <see cref="MaxRoundTripsPerPage"/> round trips); the end is a null
    /// <see cref="IncidentPage.Continuation"/>, never a short page.
    /// </summary>
    public async Task<IncidentPage> ListPageAsync(IncidentQuery query, int pageSize, IncidentCursor? from = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(pageSize, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(pageSize, 1000);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var filter = Filter(query);
        var items = new List<IncidentRecord>(Math.Min(pageSize, 1000));
        var token = from?.TableToken;
        try
        {
            for (var trip = 0; trip < MaxRoundTripsPerPage && items.Count < pageSize; trip++)
            {
                var wanted = pageSize - items.Count;
                var pages = table.QueryAsync<IncidentRecord>(filter, maxPerPage: wanted, select: query.Select, cancellationToken: cancellationToken)
                    .AsPages(token, wanted);
                Page<IncidentRecord>? page = null;
                await foreach (var first in pages.ConfigureAwait(false))
                {
                    page = first;
                    break;
                }
                if (page is null)
                {
                    token = null;
                    break;
                }
                items.AddRange(page.Values);
                token = page.ContinuationToken;
                if (string.IsNullOrEmpty(token))
                {
                    token = null;
                    break;
                }
            }
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw TransientDependencyException.Storage(ex);
        }
        return new IncidentPage(items, token is null ? null : IncidentCursor.FromTableToken(token));
    }

    /// <summary>Most summary rows <see cref="CountByStateAsync"/> reads by default.</summary>
    public const int DefaultMaxCounted = 100_000;

    /// <summary>
    /// How many incidents the query selects, per state. It scans, so its cost is bounded: only the State column is read
    /// (a projection: ~100 bytes a row instead of the whole incident) and at most <paramref name="maxRows"/> rows;
    /// past that the counts are partial (<see cref="IncidentCounts.Complete"/> false).
    /// </summary>
    public async Task<IncidentCounts> CountByStateAsync(IncidentQuery query, int maxRows = DefaultMaxCounted, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxRows, 1);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        var total = 0;
        try
        {
            await foreach (var row in table.QueryAsync<TableEntity>(Filter(query), maxPerPage: 1000, select: [nameof(IncidentRecord.State)], cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                if (total == maxRows)
                {
                    return new IncidentCounts(counts, total, Complete: false);
                }
                var state = row.GetString(nameof(IncidentRecord.State)) ?? "";
                counts[state] = counts.GetValueOrDefault(state) + 1;
                total++;
            }
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw TransientDependencyException.Storage(ex);
        }
        return new IncidentCounts(counts, total, Complete: true);
    }

    /// <summary>The summary rows the query selects, as an OData filter.</summary>
    private static string Filter(IncidentQuery query)
    {
        var filters = new List<string> { IncidentRowKeys.SummaryFilter };
        if (query.Namespace is { Length: > 0 } ns)
        {
            filters.Add(TableClient.CreateQueryFilter($"Namespace eq {ns}"));
        }
        if (query.Workload is { Length: > 0 } workload)
        {
            filters.Add(TableClient.CreateQueryFilter($"Workload eq {workload}"));
        }
        if (query.State is { Length: > 0 } state)
        {
            filters.Add(TableClient.CreateQueryFilter($"State eq {state}"));
        }
        if (query.States is { Count: > 0 } states)
        {
            filters.Add("(" + string.Join(" or ", states.Select(s => TableClient.CreateQueryFilter($"State eq {s.ToString()}"))) + ")");
        }
        if (query.Since is { } since)
        {
            filters.Add(TableClient.CreateQueryFilter($"ReceivedAt ge {since}"));
        }
        return string.Join(" and ", filters);
    }

    private Task<List<T>> QueryAllAsync<T>(string filter, IEnumerable<string>? select, CancellationToken cancellationToken)
        where T : class, ITableEntity => QueryAllAsync<T>(table, filter, select, cancellationToken);

    /// <summary>Every row of <paramref name="from"/> the filter selects, all pages; a storage outage is a <see cref="TransientDependencyException"/>.</summary>
    internal static async Task<List<T>> QueryAllAsync<T>(TableClient from, string filter, IEnumerable<string>? select, CancellationToken cancellationToken)
        where T : class, ITableEntity
    {
        var rows = new List<T>();
        try
        {
            await foreach (var row in from.QueryAsync<T>(filter, maxPerPage: 1000, select: select, cancellationToken: cancellationToken).ConfigureAwait(false))
            {
                rows.Add(row);
            }
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw TransientDependencyException.Storage(ex);
        }
        return rows;
    }
}
