using System.Net;
using System.Text;

namespace Remediation.Tests.Diagnosis;

/// <summary>An HTTP handler that records every request (with its body) and answers from a function: HTTP-level tests without a server.</summary>
internal sealed class RecordingHandler(Func<RecordedHttpRequest, CancellationToken, Task<HttpResponseMessage>> respond) : HttpMessageHandler
{
    private readonly List<RecordedHttpRequest> _requests = [];

    public RecordingHandler(Func<RecordedHttpRequest, HttpResponseMessage> respond)
        : this((r, _) => Task.FromResult(respond(r)))
    {
    }

    public IReadOnlyList<RecordedHttpRequest> Requests
    {
        get
        {
            lock (_requests)
            {
                return [.. _requests];
            }
        }
    }

    protected override async Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        var body = request.Content is null ? null : await request.Content.ReadAsStringAsync(cancellationToken);
        var recorded = new RecordedHttpRequest(request.Method.Method, request.RequestUri!, body,
            request.Headers.Authorization?.ToString(), request.Content?.Headers.ContentType?.MediaType);
        lock (_requests)
        {
            _requests.Add(recorded);
        }
        return await respond(recorded, cancellationToken);
    }

    public static HttpResponseMessage Json(string json, HttpStatusCode status = HttpStatusCode.OK) =>
        new(status) { Content = new StringContent(json, Encoding.UTF8, "application/json") };

    public static HttpResponseMessage File(string relative, HttpStatusCode status = HttpStatusCode.OK) =>
        Json(System.IO.File.ReadAllText(Fixtures.RepoPaths.Payload(relative)), status);
}

internal sealed record RecordedHttpRequest(string Method, Uri Uri, string? Body, string? Authorization, string? ContentType)
{
    /// <summary>A query-string parameter, decoded.</summary>
    public string? Query(string name) =>
        Uri.Query.TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .Where(p => Uri.UnescapeDataString(p[0]) == name)
            .Select(p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : ""))
            .FirstOrDefault();
}
