using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Azure;
using Azure.Core.Pipeline;
using Azure.Identity;
using Azure.Messaging;
using Azure.Messaging.EventGrid;
using Microsoft.Extensions.Logging;
using Remediation.Storage;

namespace Remediation.Notifications;

/// <summary>Section Remediation:Notifications.</summary>
public sealed class NotificationOptions
{
    public const string SectionName = "Remediation:Notifications";

    /// <summary>Event Grid topic endpoint for Remediation.Completed / Remediation.Escalated CloudEvents.</summary>
    public string? EventGridTopicEndpoint { get; set; }
    /// <summary>Topic access key; empty uses the managed identity (EventGrid Data Sender role).</summary>
    public string? EventGridTopicKey { get; set; }
    public string? ClientId { get; set; }
    /// <summary>Incoming-webhook URL (Slack or Teams style: a JSON body with "text").</summary>
    public string? WebhookUrl { get; set; }
    /// <summary>Which terminal states notify; default all but NoAction.</summary>
    public List<string> States { get; set; } = [nameof(IncidentState.Succeeded), nameof(IncidentState.Failed), nameof(IncidentState.Escalated), nameof(IncidentState.Refused), nameof(IncidentState.DryRun)];
}

/// <summary>The outcome of an incident, as published to subscribers.</summary>
public sealed record OutcomeEvent(
    [property: JsonPropertyName("incidentId")] string IncidentId,
    [property: JsonPropertyName("state")] string State,
    [property: JsonPropertyName("alertName")] string AlertName,
    [property: JsonPropertyName("namespace")] string? Namespace,
    [property: JsonPropertyName("workload")] string? Workload,
    [property: JsonPropertyName("diagnosis")] string? Diagnosis,
    [property: JsonPropertyName("action")] string? Action,
    [property: JsonPropertyName("reason")] string? Reason,
    [property: JsonPropertyName("receivedAt")] DateTimeOffset ReceivedAt,
    [property: JsonPropertyName("completedAt")] DateTimeOffset? CompletedAt)
{
    public static OutcomeEvent From(IncidentRecord r) =>
        new(r.IncidentId, r.State.ToString(), r.AlertName, r.Namespace, r.Workload, r.DiagnosisClass, r.Action, r.OutcomeReason, r.ReceivedAt, r.CompletedAt);

    [JsonIgnore]
    public string EventType => State == nameof(IncidentState.Escalated) ? "Remediation.Escalated" : "Remediation.Completed";

    [JsonIgnore]
    public string Text => $"[{State}] {AlertName} on {Namespace ?? "?"}/{Workload ?? "?"}"
        + (Diagnosis is null ? "" : $" — diagnosis {Diagnosis}")
        + (Action is null ? "" : $", action {Action}")
        + (Reason is null ? "" : $": {Reason}");
}

public sealed record WebhookMessage([property: JsonPropertyName("text")] string Text, [property: JsonPropertyName("remediation")] OutcomeEvent Remediation);

/// <summary>
/// Tells subscribers how an incident ended: a CloudEvent on an Event Grid topic and/or an incoming-webhook message.
/// Best effort by design (the outcome is already recorded in Table Storage); a failure is logged, never thrown.
/// </summary>
public sealed partial class OutcomeNotifier
{
    private readonly NotificationOptions _options;
    private readonly EventGridPublisherClient? _eventGrid;
    private readonly HttpClient? _webhook;
    private readonly ILogger<OutcomeNotifier> _logger;

    /// <summary>The named HTTP client both channels send through (registered with its resilience by the host's wiring).</summary>
    public const string HttpClientName = "remediation-notifications";

    /// <summary>Both channels send through <paramref name="httpClients"/>' client named <see cref="HttpClientName"/>.</summary>
    public OutcomeNotifier(NotificationOptions options, IHttpClientFactory httpClients, ILogger<OutcomeNotifier> logger)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(httpClients);
        _options = options;
        _logger = logger;
        if (Uri.TryCreate(options.EventGridTopicEndpoint, UriKind.Absolute, out var topic))
        {
            // The handler retries what was never processed; Azure.Core's own retry is off on this transport.
            var clientOptions = new EventGridPublisherClientOptions { Transport = new HttpClientTransport(httpClients.CreateClient(HttpClientName)) };
            clientOptions.Retry.MaxRetries = 0;
            _eventGrid = string.IsNullOrEmpty(options.EventGridTopicKey)
                ? new EventGridPublisherClient(topic, string.IsNullOrEmpty(options.ClientId) ? new DefaultAzureCredential() : new ManagedIdentityCredential(ManagedIdentityId.FromUserAssignedClientId(options.ClientId)), clientOptions)
                : new EventGridPublisherClient(topic, new AzureKeyCredential(options.EventGridTopicKey), clientOptions);
        }
        if (Uri.TryCreate(options.WebhookUrl, UriKind.Absolute, out _))
        {
            _webhook = httpClients.CreateClient(HttpClientName);
        }
    }

    public bool Enabled => _eventGrid is not null || _webhook is not null;

    public async Task NotifyAsync(IncidentRecord incident, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(incident);
        if (!Enabled || !_options.States.Contains(incident.State.ToString()))
        {
            return;
        }
        var outcome = OutcomeEvent.From(incident);
        await SendAsync(incident, outcome.EventType, $"{outcome.IncidentId}-{outcome.State}", outcome.CompletedAt,
            System.Text.Json.JsonSerializer.SerializeToElement(outcome, NotificationJsonContext.Default.OutcomeEvent),
            new WebhookMessage(outcome.Text, outcome), NotificationJsonContext.Default.WebhookMessage, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Sends one notification through both channels: the CloudEvent (source, id, subject the workload, time) to the topic,
    /// then the message to the incoming webhook. Best effort: a failure of either is logged, never thrown.
    /// </summary>
    private async Task SendAsync<T>(IncidentRecord incident, string eventType, string eventId, DateTimeOffset? time, System.Text.Json.JsonElement data,
        T message, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> messageInfo, CancellationToken cancellationToken)
    {
        var incidentId = incident.IncidentId;
        // A JsonElement (from the source-generated context) serializes as the event's JSON "data".
        await PublishAsync(incidentId, new CloudEvent("/remediation/incidents", eventType, data)
        {
            Id = eventId,
            Subject = $"{incident.Namespace}/{incident.Workload}",
            Time = time,
        }, cancellationToken).ConfigureAwait(false);
        await PostAsync(incidentId, message, messageInfo, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Sends the event to the Event Grid topic when one is configured; a failure is logged, never thrown.</summary>
    private async Task PublishAsync(string incidentId, CloudEvent cloudEvent, CancellationToken cancellationToken)
    {
        if (_eventGrid is null)
        {
            return;
        }
        try
        {
            await _eventGrid.SendEventAsync(cloudEvent, cancellationToken).ConfigureAwait(false);
        }
        catch (RequestFailedException ex)
        {
            LogFailed("Event Grid", incidentId, ex.Status, ex.Message);
        }
        catch (Exception ex) when (ResilienceFailure.Describe(ex) is { } why)
        {
            LogFailed("Event Grid", incidentId, 0, why);
        }
    }

    /// <summary>Posts the message to the incoming webhook when one is configured; a failure is logged, never thrown.</summary>
    private async Task PostAsync<T>(string incidentId, T message, System.Text.Json.Serialization.Metadata.JsonTypeInfo<T> typeInfo, CancellationToken cancellationToken)
    {
        if (_webhook is null)
        {
            return;
        }
        try
        {
            using var response = await _webhook.PostAsJsonAsync(_options.WebhookUrl, message, typeInfo, cancellationToken).ConfigureAwait(false);
            if (!response.IsSuccessStatusCode)
            {
                LogFailed("webhook", incidentId, (int)response.StatusCode, response.ReasonPhrase ?? "");
            }
        }
        catch (HttpRequestException ex)
        {
            LogFailed("webhook", incidentId, 0, ex.Message);
        }
        catch (Exception ex) when (ResilienceFailure.Describe(ex) is { } why)
        {
            LogFailed("webhook", incidentId, 0, why);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outcome notification via {Channel} for incident {IncidentId} failed ({Status}): {Error}; the outcome stays recorded in storage")]
    private partial void LogFailed(string channel, string incidentId, int status, string error);
}
