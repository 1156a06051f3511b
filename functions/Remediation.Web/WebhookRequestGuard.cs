using Microsoft.AspNetCore.Http;
using Microsoft.Net.Http.Headers;

namespace Remediation.Http;

/// <summary>
/// What every webhook POST must be before its body is read, in the Functions app and the standalone host alike:
/// <list type="bullet">
/// <item>not a cross-site browser request (403): a browser marks one with <c>Sec-Fetch-Site: cross-site</c> or
/// <c>same-site</c>, or with an <c>Origin</c> that is not this host's own. A page elsewhere can make a browser post a
/// form or a <c>text/plain</c> body here with the user's cached Basic credentials; the senders (Alertmanager, Azure
/// Monitor, Event Grid) send neither header and are unaffected;</item>
/// <item>JSON (415): <c>application/json</c> or <c>application/*+json</c> (e.g. <c>application/cloudevents+json</c>,
/// <c>application/cloudevents-batch+json</c>), optionally with <c>charset=utf-8</c>. Browsers cannot send these
/// cross-origin without a CORS preflight, which this host never grants.</item>
/// </list>
/// </summary>
public static class WebhookRequestGuard
{
    public const string ExpectedMediaTypes = "application/json or application/*+json (e.g. application/cloudevents+json), optionally with charset=utf-8";

    /// <summary>Null when the request may be read; else the 403 or 415 problem.</summary>
    public static IResult? Check(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        if (CrossSiteReason(request) is { } crossSite)
        {
            return ApiProblem.Result(403, "Forbidden", crossSite.Reason, crossSite.Field);
        }
        if (MediaTypeProblem(request.ContentType) is { } mediaType)
        {
            return ApiProblem.Result(415, "Unsupported Media Type", mediaType, "Content-Type");
        }
        return null;
    }

    /// <summary>Why the request looks like a cross-site browser request (and the header that says so), or null.</summary>
    public static (string Reason, string Field)? CrossSiteReason(HttpRequest request)
    {
        ArgumentNullException.ThrowIfNull(request);
        var fetchSite = request.Headers["Sec-Fetch-Site"].ToString().Trim();
        var origin = request.Headers.Origin.ToString().Trim();
        var ownOrigin = string.IsNullOrEmpty(origin) || IsOwnOrigin(request, origin);
        if (fetchSite.Equals("cross-site", StringComparison.OrdinalIgnoreCase)
            || (fetchSite.Equals("same-site", StringComparison.OrdinalIgnoreCase) && !(ownOrigin && origin.Length > 0)))
        {
            return ($"cross-site browser requests are refused (Sec-Fetch-Site: {fetchSite}); webhooks are posted by servers, without Sec-Fetch-Site or Origin", "Sec-Fetch-Site");
        }
        if (!ownOrigin)
        {
            return ($"requests from another origin are refused (Origin: {Printable(origin)}); webhooks are posted by servers, without an Origin header", "Origin");
        }
        return null;
    }

    /// <summary>Why the Content-Type is not acceptable, or null.</summary>
    public static string? MediaTypeProblem(string? contentType)
    {
        if (string.IsNullOrWhiteSpace(contentType))
        {
            return $"the Content-Type header is missing; expected {ExpectedMediaTypes}";
        }
        if (!MediaTypeHeaderValue.TryParse(contentType, out var parsed) || parsed.MediaType.Value is not { } mediaType)
        {
            return $"the Content-Type '{Printable(contentType)}' is not a media type; expected {ExpectedMediaTypes}";
        }
        var isJson = mediaType.Equals("application/json", StringComparison.OrdinalIgnoreCase)
            || (mediaType.StartsWith("application/", StringComparison.OrdinalIgnoreCase) && mediaType.EndsWith("+json", StringComparison.OrdinalIgnoreCase));
        if (!isJson)
        {
            return $"the Content-Type '{Printable(mediaType)}' is not accepted; expected {ExpectedMediaTypes}";
        }
        if (parsed.Charset.Value is { Length: > 0 } charset
            && !charset.Trim('"').Equals("utf-8", StringComparison.OrdinalIgnoreCase) && !charset.Trim('"').Equals("utf8", StringComparison.OrdinalIgnoreCase))
        {
            return $"the charset '{Printable(charset)}' is not accepted; expected JSON encoded as UTF-8: {ExpectedMediaTypes}";
        }
        return null;
    }

    private static bool IsOwnOrigin(HttpRequest request, string origin)
    {
        if (!Uri.TryCreate(origin, UriKind.Absolute, out var from) || !request.Host.HasValue
            || !Uri.TryCreate($"{request.Scheme}://{request.Host.Value}", UriKind.Absolute, out var own))
        {
            // "null" (sandboxed frames, privacy-sensitive redirects) and anything unparseable is another origin.
            return false;
        }
        return string.Equals(from.Scheme, own.Scheme, StringComparison.OrdinalIgnoreCase)
            && string.Equals(from.IdnHost, own.IdnHost, StringComparison.OrdinalIgnoreCase)
            && from.Port == own.Port;
    }

    /// <summary>Header text as it may appear in a problem: printable ASCII, at most 100 characters.</summary>
    private static string Printable(string text)
    {
        var clean = new string(text.Select(c => c is >= ' ' and <= '~' ? c : '?').ToArray());
        return clean.Length <= 100 ? clean : clean[..100] + "…";
    }
}
