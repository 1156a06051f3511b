using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>
/// The row naming the incident that leads a workload's group: PartitionKey <c>group|{namespace}|{name}</c> (each part
/// escaped), RowKey <c>group</c>. Its conditional insert, or its replacement (ETag) once the lead it names is over, is
/// how exactly one incident becomes the lead.
/// </summary>
public sealed class IncidentGroupRecord : ITableEntity
{
    public const string Row = "group";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = Row;
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string LeadIncidentId { get; set; } = "";
    public DateTimeOffset Since { get; set; }
    /// <summary>
    /// The lead is a culprit's derived incident (a cascade): only then do other alerts of the workload join it before
    /// diagnosis, so for any other lead the pipeline does not read the lead's summary.
    /// </summary>
    public bool LeadDerived { get; set; }

    public static string KeyFor(string @namespace, string name) =>
        StorageKeys.Join("group", StorageKeys.Escape(@namespace, 200), StorageKeys.Escape(name, 600));
}

/// <summary>
/// A member of a group, in the lead's partition (RowKey <c>member|{memberId}</c>): written before the member records
/// itself as Victim or Grouped, and marked closed once the member's incident carries the lead's outcome.
/// </summary>
public sealed class IncidentMemberRecord : ITableEntity
{
    public const string Kind = "member";

    /// <summary>Selects the member rows of a lead's partition.</summary>
    public const string Filter = "RowKey ge 'member|' and RowKey lt 'member}'";

    /// <summary>
    /// Kind of the row (<c>joined|{leadId}</c>) inserted in a lead's partition before its first member row: a lead without
    /// it has no members, and its closing reads that one row instead of querying its partition. (Azure Storage serves a
    /// partition query from the partition; Azurite scans every row of the table for it: a query per concluded lead made
    /// a storm's drain grow with the square of its size.)
    /// </summary>
    public const string JoinedKind = "joined";

    public string PartitionKey { get; set; } = "";
    public string RowKey { get; set; } = "";
    public DateTimeOffset? Timestamp { get; set; }
    public ETag ETag { get; set; }

    public string MemberIncidentId { get; set; } = "";
    public DateTimeOffset JoinedAt { get; set; }
    public bool Closed { get; set; }
}

/// <summary>
/// Incident groups (one remediation per cascade): which incident leads a workload's group, and the members of a lead.
/// Every write is conditional: insert-if-absent or ETag.
/// </summary>
public interface IIncidentGroups
{
    /// <summary>The group row of a workload; null when none was ever written.</summary>
    Task<IncidentGroupRecord?> GetGroupAsync(string @namespace, string name, CancellationToken cancellationToken = default);

    /// <summary>
    /// Makes <paramref name="leadIncidentId"/> the lead of the workload's group: inserts the row when <paramref name="replacing"/>
    /// is null, else replaces that row if unchanged since it was read. False on a lost race (re-read and decide again).
    /// </summary>
    Task<bool> TrySetLeadAsync(string @namespace, string name, string leadIncidentId, bool leadDerived, IncidentGroupRecord? replacing, DateTimeOffset at,
        CancellationToken cancellationToken = default);

    /// <summary>Records <paramref name="memberIncidentId"/> as a member of the lead's group (idempotent).</summary>
    Task AddMemberAsync(string leadIncidentId, string memberIncidentId, DateTimeOffset at, CancellationToken cancellationToken = default);

    /// <summary>The members of a lead not yet closed.</summary>
    Task<IReadOnlyList<IncidentMemberRecord>> OpenMembersAsync(string leadIncidentId, CancellationToken cancellationToken = default);

    /// <summary>Marks a member row closed if unchanged since it was read; false on a lost race (it is re-read next time).</summary>
    Task<bool> TryMarkClosedAsync(IncidentMemberRecord member, CancellationToken cancellationToken = default);
}
