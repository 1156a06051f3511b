using System.Diagnostics.Metrics;
using System.Net;
using Azure.Core;
using Azure.Core.Pipeline;
using Azure.Data.Tables;

namespace Remediation.Tests.Hosting;

/// <summary>Storage requests are counted by service and operation, classified from method and path shape.</summary>
public sealed class StorageRequestCounterTests
{
    [Theory]
    [InlineData("POST", "/devstoreaccount1/$batch", "batch")]
    [InlineData("POST", "/$batch", "batch")]
    [InlineData("POST", "/devstoreaccount1/Tables", "create-table")]
    [InlineData("GET", "/Tables", "list-tables")]
    [InlineData("POST", "/devstoreaccount1/incidents", "insert")]
    [InlineData("PUT", "/incidents(PartitionKey='a',RowKey='incident%7Ca')", "upsert")]
    [InlineData("PATCH", "/incidents(PartitionKey='a',RowKey='b')", "merge")]
    [InlineData("MERGE", "/incidents(PartitionKey='a',RowKey='b')", "merge")]
    [InlineData("DELETE", "/incidents(PartitionKey='a',RowKey='b')", "delete")]
    [InlineData("GET", "/devstoreaccount1/incidents(PartitionKey='a',RowKey='b')", "read")]
    [InlineData("GET", "/devstoreaccount1/incidents%28PartitionKey=%27a%27,RowKey=%27b%27%29", "read")]
    [InlineData("GET", "/devstoreaccount1/incidents()", "query")]
    [InlineData("GET", "/incidents", "query")]
    public void Table_operation_is_taken_from_method_and_path(string method, string path, string expected) =>
        Assert.Equal(expected, StorageRequestCounter.TableOperation(method, path));

    [Fact]
    public void A_put_conditional_on_an_etag_is_a_replace_of_the_row_as_read()
    {
        Assert.Equal("replace", StorageRequestCounter.TableOperation("PUT", "/incidents(PartitionKey='a',RowKey='b')", conditional: true));
        Assert.Equal("upsert", StorageRequestCounter.TableOperation("PUT", "/incidents(PartitionKey='a',RowKey='b')", conditional: false));
    }

    [Theory]
    [InlineData("POST", "/devstoreaccount1/work/messages", "", "send")]
    [InlineData("GET", "/work/messages", "?numofmessages=32", "receive")]
    [InlineData("GET", "/work/messages", "?peekonly=true", "peek")]
    [InlineData("DELETE", "/devstoreaccount1/work/messages/4f1c", "?popreceipt=x", "delete")]
    [InlineData("DELETE", "/work/messages", "", "clear")]
    [InlineData("PUT", "/work/messages/4f1c", "?popreceipt=x&visibilitytimeout=30", "update")]
    [InlineData("GET", "/devstoreaccount1/work", "?comp=metadata", "properties")]
    [InlineData("PUT", "/work", "", "create-queue")]
    public void Queue_operation_is_taken_from_method_and_path(string method, string path, string query, string expected) =>
        Assert.Equal(expected, StorageRequestCounter.QueueOperation(method, path, query));

    [Fact]
    public async Task Every_request_a_table_client_sends_is_counted_once_per_attempt_with_service_and_operation()
    {
        using var metrics = new RemediationMetrics();
        var seen = new List<(string Service, string Operation)>();
        using var listener = new MeterListener
        {
            InstrumentPublished = (instrument, l) =>
            {
                if (ReferenceEquals(instrument.Meter, metrics.Meter) && instrument.Name == "remediation.storage.requests")
                {
                    l.EnableMeasurementEvents(instrument);
                }
            },
        };
        listener.SetMeasurementEventCallback<long>((_, value, tags, _) =>
        {
            var t = tags.ToArray().ToDictionary(kv => kv.Key, kv => kv.Value as string);
            for (var i = 0; i < value; i++)
            {
                seen.Add((t["service"]!, t["operation"]!));
            }
        });
        listener.Start();
        // The first insert attempt is answered 503 and retried; the read is answered at once.
        var answers = new Queue<HttpStatusCode>([HttpStatusCode.ServiceUnavailable, HttpStatusCode.NoContent, HttpStatusCode.NotFound, HttpStatusCode.NoContent, HttpStatusCode.NoContent]);
        using var handler = new Answering(answers);
        var options = new TableClientOptions { Transport = new HttpClientTransport(handler) };
        options.Retry.Delay = TimeSpan.FromMilliseconds(1);
        options.AddPolicy(new StorageRequestCounter(metrics, StorageRequestCounter.Table), HttpPipelinePosition.PerRetry);
        var table = new TableClient(new Uri("http://127.0.0.1:1/devstoreaccount1/incidents?sv=2024&sig=secret"), options);

        await table.AddEntityAsync(new TableEntity("a", "b"));
        var read = await table.GetEntityIfExistsAsync<TableEntity>("a", "b");
        // A write conditional on the ETag read (an update of the row as read) and an unconditional one.
        await table.UpdateEntityAsync(new TableEntity("a", "b"), new Azure.ETag("W/\"datetime'2026-12-01T00%3A00%3A00Z'\""), TableUpdateMode.Replace);
        await table.UpsertEntityAsync(new TableEntity("a", "b"), TableUpdateMode.Replace);

        Assert.False(read.HasValue);
        Assert.Equal([("table", "insert"), ("table", "insert"), ("table", "read"), ("table", "replace"), ("table", "upsert")], seen);
    }

    private sealed class Answering(Queue<HttpStatusCode> answers) : HttpMessageHandler
    {
        protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
        {
            var response = new HttpResponseMessage(answers.Dequeue()) { Content = new StringContent("") };
            response.Headers.Add("x-ms-request-id", "1");
            return Task.FromResult(response);
        }
    }
}
