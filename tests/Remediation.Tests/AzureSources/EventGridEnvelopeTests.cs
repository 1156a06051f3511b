using System.Text;
using System.Text.Json.Nodes;
using Remediation.Alerts;
using Remediation.Tests.Fixtures;

namespace Remediation.Tests.AzureSources;

/// <summary>
/// The optional envelope attributes the SDK reads are checked first: found from outside, a mistyped one answered 400
/// naming "$" with the SDK's own words ("One of the identified items was in an invalid format").
/// </summary>
public sealed class EventGridEnvelopeTests
{
    private static JsonNode Payload(string file) => JsonNode.Parse(File.ReadAllText(RepoPaths.Payload(file)))!;

    [Theory]
    [InlineData("time", "\"yesterday\"", "$.time", "RFC 3339")]
    [InlineData("time", "\"\"", "$.time", "RFC 3339")]
    [InlineData("time", "\"1/2/2026\"", "$.time", "RFC 3339")]
    [InlineData("time", "\"2026-11-26t03:00:00z\"", "$.time", "RFC 3339")]
    [InlineData("subject", "5", "$.subject", "'subject' must be a string, not a number")]
    [InlineData("datacontenttype", "[]", "$.datacontenttype", "must be a string, not an array")]
    [InlineData("dataschema", "{}", "$.dataschema", "must be a string, not an object")]
    [InlineData("data_base64", "\"x\"", "$.data_base64", "base64")]
    [InlineData("data_base64", "\"\"", "$.data_base64", "base64")]
    public void A_mistyped_cloudevent_attribute_is_named(string attribute, string json, string field, string detail)
    {
        var cloudEvent = Payload("eventgrid/alert-cloudevent.json").AsObject();
        cloudEvent[attribute] = JsonNode.Parse(json);
        var ex = Assert.Throws<AlertParseException>(() => EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(cloudEvent.ToJsonString()), EventGridNormalizer.CloudEventsMediaType));
        Assert.Equal(field, ex.Field);
        Assert.Contains(detail, ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("topic", "1", "$[0].topic")]
    [InlineData("metadataVersion", "true", "$[0].metadataVersion")]
    public void A_mistyped_event_grid_attribute_is_named(string attribute, string json, string field)
    {
        var events = Payload("eventgrid/alert-eventgrid-schema.json").AsArray();
        events[0]![attribute] = JsonNode.Parse(json);
        var ex = Assert.Throws<AlertParseException>(() => EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(events.ToJsonString()), "application/json"));
        Assert.Equal(field, ex.Field);
        Assert.Contains("must be a string", ex.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("2026-11-26T03:00:00.123456789Z")]
    [InlineData("2026-11-26T03:00:00+01:00")]
    [InlineData("2026-11-26T03:00:00Z")]
    public void Times_in_rfc_3339_forms_are_read(string time)
    {
        var cloudEvent = Payload("eventgrid/alert-cloudevent.json").AsObject();
        cloudEvent["time"] = time;
        var delivery = EventGridNormalizer.Parse(Encoding.UTF8.GetBytes(cloudEvent.ToJsonString()), EventGridNormalizer.CloudEventsMediaType);
        Assert.Single(delivery.Alerts);
    }
}
