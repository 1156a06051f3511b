using Azure;
using Azure.Data.Tables;

namespace Remediation.Storage;

/// <summary>The group rows (<see cref="IIncidentGroups"/>) in the incidents table.</summary>
public sealed partial class IncidentStore : IIncidentGroups
{
    public async Task<IncidentGroupRecord?> GetGroupAsync(string @namespace, string name, CancellationToken cancellationToken = default)
    {
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var key = IncidentGroupRecord.KeyFor(@namespace, name);
        var response = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<IncidentGroupRecord>(key, IncidentGroupRecord.Row, cancellationToken: cancellationToken))
            .ConfigureAwait(false);
        return response.HasValue ? response.Value : null;
    }

    public async Task<bool> TrySetLeadAsync(string @namespace, string name, string leadIncidentId, bool leadDerived, IncidentGroupRecord? replacing, DateTimeOffset at,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadIncidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var row = new IncidentGroupRecord { PartitionKey = IncidentGroupRecord.KeyFor(@namespace, name), LeadIncidentId = leadIncidentId, LeadDerived = leadDerived, Since = at };
        return replacing is null
            ? await TryAddAsync(row, cancellationToken).ConfigureAwait(false)
            : await TryUpdateRowAsync(row, replacing.ETag, TableUpdateMode.Replace, cancellationToken).ConfigureAwait(false);
    }

    public async Task AddMemberAsync(string leadIncidentId, string memberIncidentId, DateTimeOffset at, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadIncidentId);
        ArgumentException.ThrowIfNullOrEmpty(memberIncidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        // The lead's marker first (insert-only; there once any member joined), then the member's row. A lead's closing that
        // read no marker ran before this member joined, and the member, recording itself after, finds the lead over and
        // closes itself (CascadeGrouping.CloseIfLeadOverAsync).
        await TryAddAsync(new TableEntity(leadIncidentId, IncidentRowKeys.For(IncidentMemberRecord.JoinedKind, leadIncidentId)), cancellationToken).ConfigureAwait(false);
        // Insert-only: a member joining again (a redelivered work item) keeps its first row, closed or not.
        await TryAddAsync(new IncidentMemberRecord
        {
            PartitionKey = leadIncidentId, RowKey = IncidentRowKeys.For(IncidentMemberRecord.Kind, memberIncidentId), MemberIncidentId = memberIncidentId, JoinedAt = at,
        }, cancellationToken).ConfigureAwait(false);
    }

    public async Task<IReadOnlyList<IncidentMemberRecord>> OpenMembersAsync(string leadIncidentId, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(leadIncidentId);
        await EnsureCreatedAsync(cancellationToken).ConfigureAwait(false);
        var joined = await StorageCall.Guard(() => table.GetEntityIfExistsAsync<TableEntity>(leadIncidentId, IncidentRowKeys.For(IncidentMemberRecord.JoinedKind, leadIncidentId),
            [nameof(ITableEntity.RowKey)], cancellationToken)).ConfigureAwait(false);
        if (!joined.HasValue)
        {
            return [];
        }
        var filter = TableClient.CreateQueryFilter($"PartitionKey eq {leadIncidentId} and Closed eq false") + " and " + IncidentMemberRecord.Filter;
        return await QueryAllAsync<IncidentMemberRecord>(filter, null, cancellationToken).ConfigureAwait(false);
    }

    public Task<bool> TryMarkClosedAsync(IncidentMemberRecord member, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(member);
        var patch = new TableEntity(member.PartitionKey, member.RowKey) { [nameof(IncidentMemberRecord.Closed)] = true };
        return TryUpdateRowAsync(patch, member.ETag, TableUpdateMode.Merge, cancellationToken);
    }
}
