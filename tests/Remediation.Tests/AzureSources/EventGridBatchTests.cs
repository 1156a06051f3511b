using System.Text;
using System.Text.Json.Nodes;
using Remediation.Alerts;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.AzureSources;

/// <summary>
/// A subscription validation is answered only alone: in a batch with alerts, answering it (200) told the sender the
/// alerts were delivered while none was read.
/// </summary>
public sealed class EventGridBatchTests
{
    private static JsonArray Events(string file) => JsonNode.Parse(File.ReadAllText(RepoPaths.Payload(file)))!.AsArray();

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_event_grid_batch_with_a_validation_event_and_alerts_is_refused_naming_the_validation(bool validationFirst)
    {
        var alerts = Events("eventgrid/alert-eventgrid-schema.json");
        var validation = Events("eventgrid/subscription-validation.json")[0]!.DeepClone();
        var batch = new JsonArray([.. alerts.Select(a => a!.DeepClone())]);
        batch.Insert(validationFirst ? 0 : batch.Count, validation);

        var ex = Assert.Throws<AlertParseException>(() => EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(batch.ToJsonString()), "application/json"));
        Assert.Equal($"$[{(validationFirst ? 0 : batch.Count - 1)}]", ex.Field);
        Assert.Contains("delivered alone", ex.Message, StringComparison.Ordinal);

        // Alone, it is answered.
        var alone = EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(new JsonArray(validation.DeepClone()).ToJsonString()), "application/json");
        Assert.Equal("512d38b6-c7b8-40c8-89fe-f46f9e9622b6", alone.ValidationCode);
    }

    [Fact]
    public void A_cloudevents_batch_with_a_validation_event_and_alerts_is_refused()
    {
        var batch = Events("eventgrid/alerts-cloudevents-batch.json");
        batch.Add(new JsonObject
        {
            ["specversion"] = "1.0", ["id"] = "v-1", ["source"] = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.EventGrid/topics/t",
            ["type"] = "Microsoft.EventGrid.SubscriptionValidationEvent", ["time"] = "2026-11-26T03:00:00Z",
            ["data"] = new JsonObject { ["validationCode"] = "code-1" },
        });

        var ex = Assert.Throws<AlertParseException>(() =>
            EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(batch.ToJsonString()), EventGridNormalizer.CloudEventsBatchMediaType));
        Assert.Equal($"$[{batch.Count - 1}]", ex.Field);
    }
}
