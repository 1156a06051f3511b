using System.Text.Json;

namespace Remediation.Alerts;

/// <summary>The two envelopes an Event Grid delivery comes in.</summary>
internal enum EventSchema
{
    EventGrid,
    CloudEvents,
}

/// <summary>
/// Checks the envelope of each event (Event Grid schema or CloudEvents 1.0) before the SDK reads it, so that a
/// missing or mistyped field is a 400 naming its path rather than the SDK's message.
/// </summary>
internal static class EventGridEnvelope
{
    public static EventSchema DetectSchema(JsonElement root, string? mediaType)
    {
        if (string.Equals(mediaType, EventGridNormalizer.CloudEventsMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return root.ValueKind == JsonValueKind.Object
                ? EventSchema.CloudEvents
                : throw new AlertParseException("$", $"{EventGridNormalizer.CloudEventsMediaType} carries one event object, not {AlertJson.Kind(root)}; use {EventGridNormalizer.CloudEventsBatchMediaType} for an array");
        }
        if (string.Equals(mediaType, EventGridNormalizer.CloudEventsBatchMediaType, StringComparison.OrdinalIgnoreCase))
        {
            return root.ValueKind == JsonValueKind.Array
                ? EventSchema.CloudEvents
                : throw new AlertParseException("$", $"{EventGridNormalizer.CloudEventsBatchMediaType} carries an array of events, not {AlertJson.Kind(root)}");
        }
        var first = root.ValueKind switch
        {
            JsonValueKind.Array => root.EnumerateArray().FirstOrDefault(),
            JsonValueKind.Object => root,
            _ => throw new AlertParseException("$", $"expected an array of Event Grid events or a CloudEvent, not {AlertJson.Kind(root)}"),
        };
        if (first.ValueKind == JsonValueKind.Object && first.TryGetProperty("specversion", out _))
        {
            return EventSchema.CloudEvents;
        }
        return EventSchema.EventGrid;
    }

    public static void CheckEventGrid(JsonElement item, string path)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException(path, $"expected an Event Grid event object, not {AlertJson.Kind(item)}");
        }
        foreach (var field in (string[])["id", "eventType", "dataVersion"])
        {
            RequiredString(item, field, path);
        }
        // Event Grid sends subject "" (e.g. in the SubscriptionValidationEvent): present, a string, maybe empty.
        if (!item.TryGetProperty("subject", out var subject) || subject.ValueKind != JsonValueKind.String)
        {
            throw new AlertParseException($"{path}.subject", subject.ValueKind == JsonValueKind.Undefined
                ? "required field 'subject' is missing"
                : $"'subject' must be a string, not {AlertJson.Kind(subject)}");
        }
        var eventTime = RequiredString(item, "eventTime", path);
        if (!DateTimeOffset.TryParse(eventTime, System.Globalization.CultureInfo.InvariantCulture, System.Globalization.DateTimeStyles.AssumeUniversal, out _))
        {
            throw new AlertParseException($"{path}.eventTime", $"'eventTime' is not an ISO 8601 time: '{eventTime}'");
        }
        if (!item.TryGetProperty("data", out var data) || data.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            throw new AlertParseException($"{path}.data", "required field 'data' is missing");
        }
        foreach (var field in (string[])["topic", "metadataVersion"])
        {
            AlertJson.OptionalString(item, field, path);
        }
    }

    public static void CheckCloudEvent(JsonElement item, string path)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new AlertParseException(path, $"expected a CloudEvent object, not {AlertJson.Kind(item)}");
        }
        var specVersion = RequiredString(item, "specversion", path);
        if (specVersion != "1.0")
        {
            throw new AlertParseException($"{path}.specversion", $"unsupported CloudEvents specversion '{specVersion}'; expected \"1.0\"");
        }
        foreach (var field in (string[])["id", "source", "type"])
        {
            RequiredString(item, field, path);
        }
        var hasData = item.TryGetProperty("data", out var data) && data.ValueKind is not (JsonValueKind.Null or JsonValueKind.Undefined);
        if (!hasData && !item.TryGetProperty("data_base64", out _))
        {
            throw new AlertParseException($"{path}.data", "required field 'data' is missing");
        }
        // The optional attributes the SDK reads: checked here, so a bad one is named rather than the SDK's message.
        foreach (var field in (string[])["subject", "datacontenttype", "dataschema"])
        {
            AlertJson.OptionalString(item, field, path);
        }
        // As the SDK reads it (JSON's ISO 8601 profile: an upper-case 'T', a 'Z' or an offset).
        if (AlertJson.OptionalString(item, "time", path) is { } time && !item.GetProperty("time").TryGetDateTimeOffset(out _))
        {
            throw new AlertParseException($"{path}.time", $"'time' must be an RFC 3339 time such as 2026-11-26T03:00:00Z, not '{time}'");
        }
        if (AlertJson.OptionalString(item, "data_base64", path) is { } base64 && (base64.Length == 0 || !IsBase64(base64)))
        {
            throw new AlertParseException($"{path}.data_base64", "'data_base64' must be the data in base64 (RFC 4648)");
        }
    }

    private static bool IsBase64(string text) => Convert.TryFromBase64String(text, new byte[text.Length], out _);


    private static string RequiredString(JsonElement item, string field, string path)
    {
        if (!item.TryGetProperty(field, out var value) || value.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            throw new AlertParseException($"{path}.{field}", $"required field '{field}' is missing");
        }
        if (value.ValueKind != JsonValueKind.String || string.IsNullOrEmpty(value.GetString()))
        {
            throw new AlertParseException($"{path}.{field}", $"'{field}' must be a non-empty string, not {AlertJson.Kind(value)}");
        }
        return value.GetString()!;
    }
}
