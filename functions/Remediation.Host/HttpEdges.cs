using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Remediation.Http;

namespace Remediation.Host;

/// <summary>
/// The host's outermost middleware: one redacted log line per request, and Kestrel's refusals inside the pipeline
/// turned into problem+json client errors.
/// <para>
/// What Kestrel refuses before the pipeline runs cannot carry a body from here: 431 (request headers over
/// <see cref="KestrelServerLimits.MaxRequestHeadersTotalSize"/> / <see cref="KestrelServerLimits.MaxRequestHeaderCount"/>),
/// 408 on a <see cref="KestrelServerLimits.RequestHeadersTimeout"/>, 400 on a malformed request line, and 414. Kestrel
/// has no hook for those responses (they are written by the connection before an HttpContext exists), so they stay
/// empty; Kestrel logs them at Debug (category Microsoft.AspNetCore.Server.Kestrel.BadRequests), never as errors.
/// </para>
/// </summary>
public static partial class HttpEdges
{
    /// <summary>One line per request: method, path, query (only the product's own parameters shown), status and duration (Information; 5xx Warning).</summary>
    public static async Task RequestLogAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var started = Stopwatch.GetTimestamp();
        var threw = false;
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Exception)
        {
            // Logged below as what the client gets: an exception before the response started is Kestrel's 500.
            threw = true;
            throw;
        }
        finally
        {
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Remediation.Host.Requests");
            var request = context.Request;
            var target = request.Path.Value + LogRedaction.Query(request.QueryString.Value ?? "");
            var elapsed = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            var status = threw && !context.Response.HasStarted ? StatusCodes.Status500InternalServerError : context.Response.StatusCode;
            if (status >= 500)
            {
                LogServerError(logger, request.Method, target, status, elapsed);
            }
            else
            {
                LogRequest(logger, request.Method, target, status, elapsed);
            }
        }
    }

    /// <summary>
    /// Kestrel's refusals raised while the body is read — 413 over MaxRequestBodySize (e.g. a chunked body), 408 under
    /// MinRequestBodyDataRate, 400 on a malformed body framing — as problem+json naming the limit, logged as client errors.
    /// </summary>
    public static async Task ClientErrorsAsync(HttpContext context, RequestDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        try
        {
            await next(context).ConfigureAwait(false);
        }
        catch (Microsoft.AspNetCore.Http.BadHttpRequestException ex) when (!context.Response.HasStarted)
        {
            var limits = context.RequestServices.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
            var (title, detail, field) = Describe(ex.StatusCode, limits);
            var logger = context.RequestServices.GetRequiredService<ILoggerFactory>().CreateLogger("Remediation.Host.Requests");
            LogClientError(logger, context.Request.Method, context.Request.Path.Value ?? "", ex.StatusCode, detail);
            context.Response.Clear();
            await ApiProblem.Result(ex.StatusCode, title, detail, field).ExecuteAsync(context).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An error answered without a body (routing's 404 and 405, a bare status result) as problem+json saying what is
    /// served; the status and its headers (Allow) are kept.
    /// </summary>
    public static Task EmptyErrorAsync(Microsoft.AspNetCore.Diagnostics.StatusCodeContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        var http = context.HttpContext;
        var status = http.Response.StatusCode;
        var detail = status switch
        {
            StatusCodes.Status404NotFound => "nothing is served at this path; alerts are posted to /api/alerts/{alertmanager|azuremonitor|eventgrid}",
            StatusCodes.Status405MethodNotAllowed => $"{http.Request.Method} is not allowed here; allowed: {http.Response.Headers.Allow}",
            _ => Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status),
        };
        return ApiProblem.Result(status, Microsoft.AspNetCore.WebUtilities.ReasonPhrases.GetReasonPhrase(status), detail).ExecuteAsync(http);
    }

    private static (string Title, string Detail, string Field) Describe(int status, KestrelServerLimits limits) => status switch
    {
        StatusCodes.Status413PayloadTooLarge =>
            ("Payload Too Large", $"the request body exceeds {RequestBody.MaxBytes} bytes; send at most {RequestBody.MaxBytes} bytes of JSON", "body"),
        StatusCodes.Status408RequestTimeout =>
            ("Request Timeout", limits.MinRequestBodyDataRate is { } rate
                ? $"the request body arrived slower than {rate.BytesPerSecond.ToString("0", CultureInfo.InvariantCulture)} bytes per second after a {rate.GracePeriod.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture)} s grace period; send the whole body without pausing"
                : "the request body was not received in time; send the whole body without pausing", "body"),
        StatusCodes.Status431RequestHeaderFieldsTooLarge =>
            ("Request Header Fields Too Large", $"the request headers exceed {limits.MaxRequestHeadersTotalSize} bytes or {limits.MaxRequestHeaderCount} fields; send fewer or shorter headers", "headers"),
        _ => ("Bad Request", "the request body is not framed as HTTP/1.1 allows (Content-Length or chunked transfer encoding); send a complete body", "body"),
    };

    [LoggerMessage(EventId = 1, Level = LogLevel.Information, Message = "HTTP {Method} {Target} → {Status} in {ElapsedMs:0.0} ms")]
    private static partial void LogRequest(ILogger logger, string method, string target, int status, double elapsedMs);

    [LoggerMessage(EventId = 2, Level = LogLevel.Warning, Message = "HTTP {Method} {Target} → {Status} in {ElapsedMs:0.0} ms")]
    private static partial void LogServerError(ILogger logger, string method, string target, int status, double elapsedMs);

    [LoggerMessage(EventId = 3, Level = LogLevel.Information, Message = "Refused {Method} {Path}: {Status} {Reason}")]
    private static partial void LogClientError(ILogger logger, string method, string path, int status, string reason);
}
