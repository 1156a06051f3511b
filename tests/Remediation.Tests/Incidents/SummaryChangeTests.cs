using System.Reflection;
using System.Text.Json;
using Azure.Data.Tables;
using CsCheck;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.Incidents;

/// <summary>
/// A summary change is written as its changed columns (a conditional merge) or, when it clears a column, as the whole row
/// (a conditional replace): generated rows and changes go through <see cref="IncidentStore.UpdateAsync"/> against Azurite,
/// and the row read back afterwards is exactly the row as read with the change applied, every column compared, whether the
/// change is made by the update or on the record as read before it is written, to a whole row, to one read in part (after
/// the sweep's re-queue mark or not) or to a history page's row.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class SummaryChangeTests(AzuriteFixture storage)
{
    /// <summary>
    /// The columns a change may set (not the keys, nor State and ResolvedAt, whose moves the store rules on, nor WriteId,
    /// the token the store sets on each write).
    /// </summary>
    private static readonly PropertyInfo[] Columns = [.. typeof(IncidentRecord).GetProperties(BindingFlags.Public | BindingFlags.Instance)
        .Where(p => p is { CanRead: true, CanWrite: true }
            && p.Name is not ("PartitionKey" or "RowKey" or "Timestamp" or "ETag" or "State" or "ResolvedAt" or "WriteId"))];

    private static readonly DateTimeOffset Epoch = new(2026, 11, 30, 8, 0, 0, TimeSpan.Zero);

    /// <summary>Value <paramref name="choice"/> of a column's type; choice 0 is null where the column may be null.</summary>
    private static object? ValueOf(PropertyInfo column, int choice)
    {
        var nullable = column.PropertyType == typeof(string) ? new NullabilityInfoContext().Create(column).WriteState == NullabilityState.Nullable
            : Nullable.GetUnderlyingType(column.PropertyType) is not null;
        if (choice == 0 && nullable)
        {
            return null;
        }
        var type = Nullable.GetUnderlyingType(column.PropertyType) ?? column.PropertyType;
        return type switch
        {
            _ when type == typeof(string) => choice switch { 0 or 1 => "", 2 => "a", 3 => "{\"reason\":\"ünïcode ✓\"}", 4 => new string('x', 3000), _ => $"value {choice}" },
            _ when type == typeof(DateTimeOffset) => Epoch.AddMilliseconds(choice * 1_234_567),
            _ when type == typeof(int) => choice,
            _ when type == typeof(bool) => choice % 2 == 1,
            _ => throw new InvalidOperationException($"no generated values for column {column.Name}"),
        };
    }

    /// <summary>How the record a change starts from was read.</summary>
    private enum Read
    {
        Whole,
        /// <summary>The sweep's columns only.</summary>
        Partial,
        /// <summary>A history page's row (the list's columns): shown, not written from; an update from it reads the row.</summary>
        Page,
    }

    private static readonly Gen<(int[] Row, int[] Change, Read Read, bool InPlace, bool Requeued)> Cases =
        Gen.Select(Gen.Int[0, 5].Array[Columns.Length], Gen.Int[-6, 5].Array[Columns.Length], Gen.Enum<Read>(), Gen.Bool, Gen.Bool);

    [Fact]
    public async Task Any_change_leaves_exactly_the_row_as_read_with_the_change_applied()
    {
        var store = new IncidentStore(new TableClient(storage.ConnectionString, "change" + Guid.NewGuid().ToString("N")[..12]));
        var merges = 0;
        var replaces = 0;
        await Cases.SampleAsync(async c =>
        {
            var row = new IncidentRecord { PartitionKey = Guid.NewGuid().ToString("N") };
            for (var i = 0; i < Columns.Length; i++)
            {
                Columns[i].SetValue(row, ValueOf(Columns[i], c.Row[i]));
            }
            Assert.True(await store.TryClaimAsync(row));
            var current = c.Read switch
            {
                Read.Partial => await store.GetColumnsAsync(row.IncidentId, IncidentStore.SweepColumns),
                Read.Page => (await store.ListPageAsync(new IncidentQuery(Select: IncidentStore.ListColumns), 1000)).Incidents.Single(r => r.IncidentId == row.IncidentId),
                _ => await store.GetAsync(row.IncidentId),
            };
            Assert.NotNull(current);
            // The sweep's mark (a merge of RequeuedAt alone) before the change: the change is not told apart from it.
            var requeuedAt = c.Requeued && c.Read != Read.Page ? Epoch.AddDays(1) : (DateTimeOffset?)null;
            // A row read in part (the sweep's columns) holds defaults in the columns not read: a change of it sets what
            // differs from what was read, and never clears or resets a column it did not read.
            var changes = Enumerable.Range(0, Columns.Length)
                .Where(i => c.Change[i] >= 0 && !(requeuedAt is not null && Columns[i].Name == nameof(IncidentRecord.RequeuedAt)))
                .Where(i => c.Read != Read.Partial || ValueOf(Columns[i], c.Change[i]) is { } value && !Equals(value, Columns[i].GetValue(current)))
                .ToList();
            var expected = row.Copy();
            expected.RequeuedAt = requeuedAt ?? expected.RequeuedAt;
            Apply(expected, changes, c.Change);

            // In place: the caller sets fields on the record it read, then writes it (as the pipeline names the workload).
            var inPlace = c.InPlace && c.Read != Read.Page;
            if (inPlace)
            {
                Apply(current, changes, c.Change);
            }
            if (requeuedAt is { } at)
            {
                Assert.True(await store.TryMarkRequeuedAsync(current, at));
            }
            var update = inPlace
                ? await store.UpdateAsync(row.IncidentId, _ => true, current)
                : await store.UpdateAsync(row.IncidentId, r => Apply(r, changes, c.Change), current);

            Assert.Equal(IncidentWriteOutcome.Written, update.Outcome);
            var clears = changes.Any(i => Columns[i].GetValue(row) is not null && ValueOf(Columns[i], c.Change[i]) is null);
            _ = clears ? replaces++ : merges++;
            Assert.Equal(Snapshot(expected), Snapshot(await store.GetAsync(row.IncidentId)));
        }, iter: 150, threads: 1);
        Assert.True(merges > 0 && replaces > 0, $"both kinds of write generated: {merges} merges, {replaces} replaces");
    }

    [Fact]
    public void A_change_that_sets_columns_sends_only_those_and_one_that_clears_sends_the_whole_row()
    {
        var read = new IncidentRecord { PartitionKey = "p", AlertJson = new string('a', 4000), DiagnosisSummary = "was", ETag = new Azure.ETag("W/\"1\"") };
        var set = read.Copy();
        set.State = IncidentState.Refused;
        set.OutcomeReason = "cooldown";

        var merge = SummaryChange.Between(read, set);
        Assert.Equal(TableUpdateMode.Merge, merge.Mode);
        var patch = Assert.IsType<TableEntity>(merge.Row);
        Assert.Equal(["OutcomeReason", "State"], patch.Keys.Where(k => k is not ("PartitionKey" or "RowKey" or "odata.etag" or "Timestamp")).Order());
        Assert.Equal("Refused", patch["State"]);
        Assert.Equal(read.ETag, merge.AsTransactionAction().ETag);

        var clear = set.Copy();
        clear.DiagnosisSummary = null;
        var replace = SummaryChange.Between(read, clear);
        Assert.Equal(TableUpdateMode.Replace, replace.Mode);
        Assert.Same(clear, replace.Row);
    }

    private static bool Apply(IncidentRecord record, IEnumerable<int> changes, int[] choices)
    {
        foreach (var i in changes)
        {
            Columns[i].SetValue(record, ValueOf(Columns[i], choices[i]));
        }
        return true;
    }

    private static string Snapshot(IncidentRecord? record)
    {
        Assert.NotNull(record);
        return JsonSerializer.Serialize(Columns.Append(typeof(IncidentRecord).GetProperty(nameof(IncidentRecord.State))!)
            .ToDictionary(p => p.Name, p => p.GetValue(record) is DateTimeOffset at ? at.ToUniversalTime() : p.GetValue(record)));
    }
}
