using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Http;

namespace Remediation.Http;

/// <summary>RFC 9457 problem details; <see cref="Field"/> names the offending input.</summary>
public sealed record ApiProblem(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("title")] string Title,
    [property: JsonPropertyName("status")] int Status,
    [property: JsonPropertyName("detail")] string Detail,
    [property: JsonPropertyName("field")] string? Field = null)
{
    public const string ContentType = "application/problem+json";

    public static IResult Result(int status, string title, string detail, string? field = null) =>
        Results.Json(new ApiProblem($"https://httpstatuses.io/{status}", title, status, detail, field),
            WebJsonContext.Default.ApiProblem, ContentType, status);

    public static IResult BadRequest(string detail, string? field = null) => Result(400, "Bad Request", detail, field);

    public static IResult Unavailable(string detail, TimeSpan retryAfter) =>
        new RetryAfterResult(Result(503, "Service Unavailable", detail), retryAfter);

    /// <summary>Adds Retry-After so senders (Alertmanager, Event Grid, action groups) retry.</summary>
    private sealed class RetryAfterResult(IResult inner, TimeSpan retryAfter) : IResult
    {
        public Task ExecuteAsync(HttpContext httpContext)
        {
            httpContext.Response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(System.Globalization.CultureInfo.InvariantCulture);
            return inner.ExecuteAsync(httpContext);
        }
    }
}
