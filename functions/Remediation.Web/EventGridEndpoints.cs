using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;
using Remediation.Alerts;

namespace Remediation.Http;

/// <summary>Event Grid's answer to a SubscriptionValidationEvent.</summary>
public sealed record SubscriptionValidationResponse(string ValidationResponse);

/// <summary>
/// HTTP specifics of Event Grid / CloudEvents deliveries: reading structured, batched and binary mode, and the
/// CloudEvents webhook abuse-protection handshake (HTTP OPTIONS).
/// </summary>
public static class EventGridEndpoints
{
    public const string RequestOriginHeader = "WebHook-Request-Origin";
    public const string AllowedOriginHeader = "WebHook-Allowed-Origin";
    public const string AllowedRateHeader = "WebHook-Allowed-Rate";

    /// <summary>
    /// OPTIONS — CloudEvents HTTP webhook spec §4: grant the origin in WebHook-Request-Origin (echoed) at any rate.
    /// The handshake "does not aim to establish an authentication or authorization context" (§4), has no side effect
    /// and discloses nothing, so it needs no credentials; every POST is still authenticated.
    /// <paramref name="allowedOrigins"/> (empty: any) limits which senders are granted.
    /// </summary>
    public static IResult Handshake(HttpRequest request, IReadOnlyCollection<string>? allowedOrigins = null)
    {
        ArgumentNullException.ThrowIfNull(request);
        var origin = request.Headers[RequestOriginHeader].ToString().Trim();
        if (string.IsNullOrEmpty(origin))
        {
            return ApiProblem.BadRequest($"the abuse-protection handshake needs the '{RequestOriginHeader}' header", RequestOriginHeader);
        }
        if (!IsHostName(origin))
        {
            // Echoed into a response header, so only what a header may carry; a sender's origin is a DNS name.
            return ApiProblem.BadRequest($"'{RequestOriginHeader}' must be the sender's host name (letters, digits, '-' and '.', e.g. eventgrid.azure.net)",
                RequestOriginHeader);
        }
        if (allowedOrigins is { Count: > 0 } && !allowedOrigins.Contains(origin, StringComparer.OrdinalIgnoreCase))
        {
            // No WebHook-Allowed-Origin header: no consent (§4.2).
            return ApiProblem.Result(403, "Forbidden", $"origin '{origin}' is not allowed to deliver events here", RequestOriginHeader);
        }
        return new HandshakeResult(origin);
    }

    /// <summary>A DNS host name (what the CloudEvents webhook spec's origin is), at most 253 characters; a port is allowed.</summary>
    private static bool IsHostName(string origin) =>
        origin.Length <= 253 + 6 && origin.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or ':');

    /// <summary>Reads the delivery; a problem result (400/413) or the parsed delivery.</summary>
    public static async Task<(IResult? Problem, EventGridDelivery? Delivery)> ReadAsync(HttpRequest request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var body = await RequestBody.ReadJsonAsync(request, cancellationToken).ConfigureAwait(false);
        if (body is null)
        {
            return (RequestBody.TooLarge(), null);
        }
        var mediaType = MediaTypeHeaderValue.TryParse(request.ContentType, out var parsed) ? parsed.MediaType.Value : null;
        try
        {
            if (request.Headers.ContainsKey("ce-specversion"))
            {
                var h = request.Headers;
                var headers = new CloudEventHeaders(h["ce-specversion"], h["ce-id"], h["ce-source"], h["ce-type"], h["ce-time"], h["ce-subject"], request.ContentType);
                return (null, EventGridNormalizer.ParseBinary(body, headers));
            }
            if (body.Length == 0)
            {
                return (ApiProblem.BadRequest("the request body is empty; expected Event Grid events or a CloudEvent", "body"), null);
            }
            return (null, EventGridNormalizer.Parse(body, mediaType));
        }
        catch (AlertParseException ex)
        {
            return (ApiProblem.BadRequest(ex.Message, ex.Field), null);
        }
    }

    private sealed class HandshakeResult(string origin) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            var headers = httpContext.Response.Headers;
            headers[AllowedOriginHeader] = origin;
            headers[AllowedRateHeader] = "*";
            headers.Allow = "POST, OPTIONS";
            httpContext.Response.StatusCode = StatusCodes.Status200OK;
            return Task.CompletedTask;
        }
    }
}
