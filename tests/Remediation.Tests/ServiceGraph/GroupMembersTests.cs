using System.Collections.Concurrent;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;
using Remediation.Storage;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.ServiceGraph;

/// <summary>
/// A lead's members: the lead's closing reads one marker row and queries its partition only when a member joined (on
/// Azurite a partition query scans the whole table, so a query per concluded lead made a storm's cost grow with its size).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class GroupMembersTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_lead_no_member_joined_is_closed_without_a_query()
    {
        var (store, sent) = await NewStoreAsync();
        await store.OpenMembersAsync("lead-before");
        sent.Clear();

        Assert.Empty(await store.OpenMembersAsync("lead-alone"));

        Assert.Equal(["read"], sent);
    }

    [Fact]
    public async Task Every_member_that_joined_is_open_until_closed_and_only_under_its_lead()
    {
        var (store, _) = await NewStoreAsync();
        await store.AddMemberAsync("lead-b", "member-1", PipelineHarness.Start);
        await store.AddMemberAsync("lead-b", "member-2", PipelineHarness.Start);
        await store.AddMemberAsync("lead-b", "member-1", PipelineHarness.Start.AddMinutes(1));

        var open = await store.OpenMembersAsync("lead-b");
        Assert.Equal(["member-1", "member-2"], open.Select(m => m.MemberIncidentId).Order(StringComparer.Ordinal));
        Assert.Empty(await store.OpenMembersAsync("lead-c"));

        Assert.True(await store.TryMarkClosedAsync(open.Single(m => m.MemberIncidentId == "member-1")));
        Assert.Equal("member-2", Assert.Single(await store.OpenMembersAsync("lead-b")).MemberIncidentId);
    }

    private async Task<(IncidentStore Store, ConcurrentQueue<string> Sent)> NewStoreAsync()
    {
        var sent = new RecordOperations();
        var options = new TableClientOptions();
        options.AddPolicy(sent, HttpPipelinePosition.PerRetry);
        var table = new TableClient(storage.ConnectionString, "members" + Guid.NewGuid().ToString("N")[..12], options);
        await table.CreateIfNotExistsAsync();
        return (new IncidentStore(table), sent.Operations);
    }

    /// <summary>Records each table request's operation as the product's request counter names it.</summary>
    private sealed class RecordOperations : HttpPipelinePolicy
    {
        public ConcurrentQueue<string> Operations { get; } = new();

        public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
            throw new NotSupportedException("the store calls storage asynchronously");

        public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
        {
            Operations.Enqueue(StorageRequestCounter.TableOperation(message.Request.Method.Method, message.Request.Uri.Path));
            await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        }
    }
}
