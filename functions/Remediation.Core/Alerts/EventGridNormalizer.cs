using System.Text.Json;
using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Azure.Messaging.EventGrid.SystemEvents;

namespace Remediation.Alerts;

/// <summary>
/// Parses Event Grid deliveries — the Event Grid schema (an array of events) and CloudEvents 1.0 in structured
/// (application/cloudevents+json), batched (application/cloudevents-batch+json) and binary (ce-* headers) mode —
/// with Azure.Messaging.EventGrid / Azure.Core, after checking the envelope fields ourselves so a 400 names the field.
/// <para>
/// Supported events: those whose data is an Azure Monitor common-schema alert (the whole payload or its data section),
/// normalized by <see cref="AzureMonitorNormalizer"/> with Source AzureMonitor — the incident is the same whether the
/// alert came through an action group webhook or through Event Grid, and a redelivered event (same id, same alert)
/// lands on the incident of its first delivery. Event Grid's SubscriptionValidationEvent is answered;
/// SubscriptionDeletedEvent is acknowledged. Any other event type makes the whole delivery a 400 naming the event
/// type: Event Grid does not retry a 400 and dead-letters it, which surfaces a mis-filtered subscription rather than
/// hiding it (subscribe with includedEventTypes / a data filter so only alerts are sent).
/// </para>
/// </summary>
public static class EventGridNormalizer
{
    public const string ValidationEventType = "Microsoft.EventGrid.SubscriptionValidationEvent";
    public const string DeletedEventType = "Microsoft.EventGrid.SubscriptionDeletedEvent";
    public const string CloudEventsMediaType = "application/cloudevents+json";
    public const string CloudEventsBatchMediaType = "application/cloudevents-batch+json";

    /// <summary>Parses a structured or batched body (Event Grid schema or CloudEvents).</summary>
    public static EventGridDelivery Parse(ReadOnlyMemory<byte> body, string? mediaType)
    {
        AlertJson.RequireUtf8(body.Span, "$");
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(body, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw JsonErrorText.ToParseException(ex);
        }
        using var owned = document;
        try
        {
            var root = document.RootElement;
            var schema = EventGridEnvelope.DetectSchema(root, mediaType);
            var isArray = root.ValueKind == JsonValueKind.Array;
            var elements = isArray ? root.EnumerateArray().ToList() : [root];
            for (var i = 0; i < elements.Count; i++)
            {
                var path = isArray ? $"$[{i}]" : "$";
                if (schema == EventSchema.EventGrid)
                {
                    EventGridEnvelope.CheckEventGrid(elements[i], path);
                }
                else
                {
                    EventGridEnvelope.CheckCloudEvent(elements[i], path);
                }
            }
            // The SDK reads the events next: a string that is not text is named here, not in its words.
            AlertJson.RequireText(root, body.Span);
            return schema == EventSchema.EventGrid ? FromEventGrid(body, elements, isArray) : FromCloudEvents(body, isArray);
        }
        catch (InvalidOperationException)
        {
            throw AlertJson.UnreadableString(document.RootElement);
        }
    }

    /// <summary>Parses a binary-mode CloudEvent: attributes in ce-* headers, the body is the data.</summary>
    public static EventGridDelivery ParseBinary(ReadOnlyMemory<byte> body, CloudEventHeaders headers)
    {
        ArgumentNullException.ThrowIfNull(headers);
        if (headers.SpecVersion != "1.0")
        {
            throw new AlertParseException("ce-specversion", $"unsupported CloudEvents specversion '{headers.SpecVersion}'; expected \"1.0\"");
        }
        var id = Required(headers.Id, "ce-id");
        var source = Required(headers.Source, "ce-source");
        var type = Required(headers.Type, "ce-type");
        DateTimeOffset? time = null;
        if (!string.IsNullOrEmpty(headers.Time))
        {
            time = DateTimeOffset.TryParse(headers.Time, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out var parsed)
                ? parsed
                : throw new AlertParseException("ce-time", $"'ce-time' is not an RFC 3339 time: '{headers.Time}'");
        }
        if (body.IsEmpty)
        {
            throw new AlertParseException("body", $"the CloudEvent '{type}' has no data; expected an Azure Monitor alert as the body");
        }
        AlertJson.RequireUtf8(body.Span, "body");
        var cloudEvent = new CloudEvent(source, type, BinaryData.FromBytes(body), headers.ContentType ?? "application/json", CloudEventDataFormat.Json)
        {
            Id = id,
            Time = time,
            Subject = headers.Subject,
        };
        try
        {
            return FromCloudEvent(cloudEvent, "body", "ce-type");
        }
        catch (InvalidOperationException)
        {
            throw AlertJson.UnreadableString();
        }
    }

    /// <summary>Parses the events with the SDK; what it rejects becomes a 400 naming the body.</summary>
    private static T[] ParseEnvelopes<T>(ReadOnlyMemory<byte> body, Func<BinaryData, T[]> parse, string what)
    {
        try
        {
            return parse(BinaryData.FromBytes(body));
        }
        catch (Exception ex) when (ex is ArgumentException or FormatException or JsonException or InvalidOperationException)
        {
            throw new AlertParseException("$", $"not a valid {what}: {AlertmanagerNormalizer.FirstSentence(ex.Message)}");
        }
    }

    private static EventGridDelivery FromEventGrid(ReadOnlyMemory<byte> body, List<JsonElement> elements, bool isArray)
    {
        var events = ParseEnvelopes(body, EventGridEvent.ParseMany, "Event Grid event array");
        var alerts = new List<NormalizedAlert>(events.Length);
        var ignored = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var e = events[i];
            var path = isArray ? $"$[{i}]" : "$";
            if (e.EventType == ValidationEventType)
            {
                if (e.TryGetSystemEventData(out var systemData) && systemData is SubscriptionValidationEventData { ValidationCode: { Length: > 0 } code })
                {
                    return new EventGridDelivery { ValidationCode = ValidationAlone(code, events.Length, path) };
                }
                throw new AlertParseException($"{path}.data.validationCode", "SubscriptionValidationEvent without a validationCode");
            }
            if (e.EventType == DeletedEventType)
            {
                ignored++;
                continue;
            }
            var data = elements[i].GetProperty("data");
            if (!AzureMonitorNormalizer.LooksLikeAlert(data))
            {
                throw Unsupported($"{path}.eventType", e.EventType);
            }
            var alert = AzureMonitorNormalizer.Normalize(data, $"{path}.data");
            alerts.Add(WithDelivery(alert, e.Id, e.EventType, e.Topic ?? e.Subject));
        }
        return new EventGridDelivery { Alerts = alerts, Ignored = ignored };
    }

    private static EventGridDelivery FromCloudEvents(ReadOnlyMemory<byte> body, bool isArray)
    {
        var events = ParseEnvelopes(body, data => CloudEvent.ParseMany(data), "CloudEvent");
        var alerts = new List<NormalizedAlert>(events.Length);
        var ignored = 0;
        for (var i = 0; i < events.Length; i++)
        {
            var path = isArray ? $"$[{i}]" : "$";
            var delivery = FromCloudEvent(events[i], $"{path}.data", $"{path}.type");
            if (delivery.ValidationCode is not null)
            {
                return delivery with { ValidationCode = ValidationAlone(delivery.ValidationCode, events.Length, path) };
            }
            alerts.AddRange(delivery.Alerts);
            ignored += delivery.Ignored;
        }
        return new EventGridDelivery { Alerts = alerts, Ignored = ignored };
    }

    /// <summary>
    /// A subscription validation is answered only when it is the delivery's one event: answering it (200) for a batch
    /// that also holds alerts would tell the sender they were delivered, and they would not be read.
    /// </summary>
    private static string ValidationAlone(string code, int events, string path) => events == 1
        ? code
        : throw new AlertParseException(path, $"a SubscriptionValidationEvent is delivered alone, not in a batch of {events} events; send it by itself");

    private static EventGridDelivery FromCloudEvent(CloudEvent e, string dataPath, string typePath)
    {
        if (e.Type == ValidationEventType)
        {
            if (e.TryGetSystemEventData(out var systemData) && systemData is SubscriptionValidationEventData { ValidationCode: { Length: > 0 } code })
            {
                return new EventGridDelivery { ValidationCode = code };
            }
            throw new AlertParseException($"{dataPath}.validationCode", "SubscriptionValidationEvent without a validationCode");
        }
        if (e.Type == DeletedEventType)
        {
            return new EventGridDelivery { Ignored = 1 };
        }
        if (e.Data is null)
        {
            throw new AlertParseException(dataPath, "required field 'data' is missing");
        }
        JsonDocument data;
        try
        {
            data = JsonDocument.Parse(e.Data.ToMemory(), new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException ex)
        {
            throw new AlertParseException(dataPath, $"the data of a '{e.Type}' event is not JSON: {AlertmanagerNormalizer.FirstSentence(ex.Message)}");
        }
        using (data)
        {
            if (!AzureMonitorNormalizer.LooksLikeAlert(data.RootElement))
            {
                throw Unsupported(typePath, e.Type);
            }
            var alert = AzureMonitorNormalizer.Normalize(data.RootElement, dataPath == "body" ? "$" : dataPath);
            return new EventGridDelivery { Alerts = [WithDelivery(alert, e.Id, e.Type, e.Source)] };
        }
    }

    private static AlertParseException Unsupported(string field, string eventType) =>
        new(field, $"unsupported event type '{eventType}': only Azure Monitor alerts (common alert schema as the event data) are accepted; " +
            "filter the Event Grid subscription to alert events");

    private static NormalizedAlert WithDelivery(NormalizedAlert alert, string eventId, string eventType, string? source)
    {
        var annotations = new Dictionary<string, string>(alert.Annotations, StringComparer.Ordinal)
        {
            ["eventId"] = eventId,
            ["eventType"] = eventType,
        };
        if (!string.IsNullOrEmpty(source))
        {
            annotations["eventSource"] = source;
        }
        return alert with { Annotations = annotations };
    }

    private static string Required(string? value, string header) =>
        string.IsNullOrEmpty(value) ? throw new AlertParseException(header, $"required header '{header}' is missing (binary-mode CloudEvent)") : value;
}
