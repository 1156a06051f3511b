using System.Collections.Concurrent;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Skeleton;

namespace Remediation.Tests.Security;

/// <summary>
/// Found from outside: cross-site browser posts, non-JSON bodies, a BOM, secrets in query strings, and the refusals
/// Kestrel raises (413 chunked, 408 slow body, 431 huge header) — each a problem+json client error, never a `fail:` log.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HttpEdgeTests(AzuriteFixture storage)
{
    private const string Payload = "alertmanager/kube-pod-crashlooping.json";

    [Fact]
    public async Task Cross_site_browser_form_post_with_basic_credentials_is_403_and_stores_nothing()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await StartAsync(logs, new Dictionary<string, string?>
        {
            ["Remediation:Auth:BasicUsername"] = "alertmanager",
            ["Remediation:Auth:BasicPasswords:0"] = "s3cret-basic",
        });
        var json = await File.ReadAllTextAsync(RepoPaths.Payload(Payload));
        // <form enctype="text/plain"> posting name={json-without-last-brace} value=} : the body is the JSON plus '='.
        var formBody = json.TrimEnd()[..^1] + ",\"x\":\"=\"}";
        using var client = new HttpClient { BaseAddress = host.BaseAddress };
        var basic = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes("alertmanager:s3cret-basic")));

        using (var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/alertmanager") { Content = new StringContent(formBody, Encoding.UTF8, "text/plain") })
        {
            request.Headers.Authorization = basic;
            request.Headers.Add("Origin", "http://evil.example");
            request.Headers.Add("Sec-Fetch-Site", "cross-site");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            var problem = await BadInputTests.ReadProblemAsync(response);
            Assert.Contains("cross-site", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }

        // Only an Origin of another site (an older browser without Sec-Fetch-*), even with a JSON media type: 403.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/alertmanager") { Content = new StringContent(json, Encoding.UTF8, "application/json") })
        {
            request.Headers.Authorization = basic;
            request.Headers.Add("Origin", "http://evil.example");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
            Assert.Equal("Origin", (await BadInputTests.ReadProblemAsync(response)).GetProperty("field").GetString());
        }

        // same-site is another origin too.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/alertmanager") { Content = new StringContent(json, Encoding.UTF8, "application/json") })
        {
            request.Headers.Authorization = basic;
            request.Headers.Add("Sec-Fetch-Site", "same-site");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        }
        Assert.Empty(await host.Store.ListAsync(new IncidentQuery()));

        // The host's own origin (a same-origin page) and a server sender without Origin are accepted.
        using (var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/alertmanager") { Content = new StringContent(json, Encoding.UTF8, "application/json") })
        {
            request.Headers.Authorization = basic;
            request.Headers.Add("Origin", host.BaseAddress.GetLeftPart(UriPartial.Authority));
            request.Headers.Add("Sec-Fetch-Site", "same-origin");
            using var response = await client.SendAsync(request);
            Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);
        }
        Assert.DoesNotContain(logs.Lines, l => l.Level >= LogLevel.Error);
    }

    [Theory]
    [InlineData("text/plain")]
    [InlineData("application/x-www-form-urlencoded")]
    [InlineData("multipart/form-data; boundary=x")]
    [InlineData("application/json; charset=iso-8859-1")]
    [InlineData(null)]
    public async Task Non_json_media_type_is_415_problem_naming_the_expected_form(string? contentType)
    {
        await using var host = await StartAsync(new CapturingLoggerProvider());
        foreach (var route in (string[])["api/alerts/alertmanager", "api/alerts/azuremonitor", "api/alerts/eventgrid"])
        {
            var content = new ByteArrayContent(await File.ReadAllBytesAsync(RepoPaths.Payload(Payload)));
            if (contentType is not null)
            {
                content.Headers.ContentType = MediaTypeHeaderValue.Parse(contentType);
            }
            using var response = await host.Client.PostAsync(route, content);
            Assert.Equal(HttpStatusCode.UnsupportedMediaType, response.StatusCode);
            var problem = await BadInputTests.ReadProblemAsync(response);
            Assert.Equal("Content-Type", problem.GetProperty("field").GetString());
            Assert.Contains("application/json", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
        Assert.Empty(await host.Store.ListAsync(new IncidentQuery()));
    }

    [Fact]
    public async Task Json_media_types_with_charset_and_a_utf8_bom_are_accepted()
    {
        await using var host = await StartAsync(new CapturingLoggerProvider());
        var body = (byte[])[0xEF, 0xBB, 0xBF, .. await File.ReadAllBytesAsync(RepoPaths.Payload(Payload))];
        var content = new ByteArrayContent(body);
        content.Headers.ContentType = MediaTypeHeaderValue.Parse("application/json; charset=UTF-8");
        using var response = await host.Client.PostAsync("api/alerts/alertmanager", content);
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var cloudEvents = new ByteArrayContent([0xEF, 0xBB, 0xBF, .. await File.ReadAllBytesAsync(RepoPaths.Payload("eventgrid/alerts-cloudevents-batch.json"))]);
        cloudEvents.Headers.ContentType = MediaTypeHeaderValue.Parse("application/cloudevents-batch+json; charset=utf-8");
        using var batch = await host.Client.PostAsync("api/alerts/eventgrid", cloudEvents);
        Assert.Equal(HttpStatusCode.Accepted, batch.StatusCode);
    }

    [Fact]
    public async Task Control_characters_from_alert_labels_reach_the_log_escaped()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await StartAsync(logs, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" });
        // An alert name carrying BEL, a forged log line and a right-to-left override.
        var alert = new Dictionary<string, object?>
        {
            ["version"] = "4", ["status"] = "firing",
            ["alerts"] = new[]
            {
                new Dictionary<string, object?>
                {
                    ["status"] = "firing", ["startsAt"] = "2026-11-30T04:00:00Z",
                    ["labels"] = new Dictionary<string, string> { ["alertname"] = "Bell\u0007\ninfo: forged line \u202Eevil", ["namespace"] = "shop", ["deployment"] = "checkout" },
                },
            },
        };
        using var response = await host.Client.PostAsync("api/alerts/alertmanager",
            new StringContent(System.Text.Json.JsonSerializer.Serialize(alert), Encoding.UTF8, "application/json"));
        Assert.Equal(HttpStatusCode.Accepted, response.StatusCode);

        var lines = logs.Lines.Where(l => l.Text.Contains("forged line", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(lines);
        Assert.All(lines, l => Assert.DoesNotContain(l.Text, c => c is '\u0007' or '\n' or '\u202E'));
        Assert.Contains(lines, l => l.Text.Contains("Bell\\u0007\\u000ainfo: forged line \\u202eevil", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Secrets_in_query_strings_never_reach_a_log_line()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await StartAsync(logs, new Dictionary<string, string?> { ["Logging:LogLevel:Default"] = "Information" });
        const string secret = "qs-secret-5d1f0c9e";
        using (await host.Client.GetAsync($"ui?access_token={secret}&namespace=shop")) { }
        using (await host.Client.GetAsync($"api/remediations?Token={secret}")) { }
        using (await host.Client.PostAsync($"api/alerts/alertmanager?code={secret}&sig={secret}", new StringContent("{", Encoding.UTF8, "application/json"))) { }
        using (await host.Client.GetAsync($"healthz?api-key={secret}&client_secret={secret}&password={secret}")) { }
        using (var anonymous = new HttpClient { BaseAddress = host.BaseAddress })
        using (await anonymous.GetAsync($"api/remediations?access_token={secret}")) { }
        // Encoded names, names of other schemes and a bare credential.
        using (await host.Client.GetAsync($"api/remediations?acc%65ss_token={secret}&access%5Ftoken={secret}&x-functions-key={secret}&{secret}")) { }
        using (await host.Client.GetAsync($"ui?sas=sv%3D1%26sig%3D{secret}&authorization=Bearer%20{secret}")) { }

        var lines = logs.Lines.ToList();
        Assert.Contains(lines, l => l.Text.Contains("/ui?***=***&namespace=shop", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Text.Contains("/healthz", StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Text.Contains(secret, StringComparison.Ordinal));
        Assert.DoesNotContain(lines, l => l.Text.Contains(HostHarness.Token, StringComparison.Ordinal));
    }

    [Fact]
    public void Redaction_covers_the_secret_keys_case_insensitively_and_leaves_the_rest()
    {
        Assert.Equal("GET /ui?namespace=shop&ACCESS_TOKEN=***&since=1h", Remediation.Host.LogRedaction.Redact("GET /ui?namespace=shop&ACCESS_TOKEN=abc&since=1h"));
        Assert.Equal("https://x.blob.core.windows.net/c?sv=2024&sig=*** done", Remediation.Host.LogRedaction.Redact("https://x.blob.core.windows.net/c?sv=2024&sig=a%2Bb done"));
        Assert.Equal("/a?monkey=1&keys=2", Remediation.Host.LogRedaction.Redact("/a?monkey=1&keys=2"));
    }

    [Fact]
    public async Task Chunked_body_over_the_limit_is_413_problem_and_no_error_is_logged()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await StartAsync(logs);
        var huge = Encoding.UTF8.GetBytes("{\"version\":\"4\",\"alerts\":[],\"pad\":\"" + new string('x', 2 * 1024 * 1024) + "\"}");
        // A stream of unknown length: HttpClient sends it chunked, so only Kestrel's MaxRequestBodySize can stop it.
        using var content = new StreamContent(new UnknownLengthStream(huge));
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        using var response = await host.Client.PostAsync("api/alerts/alertmanager", content);
        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        var problem = await BadInputTests.ReadProblemAsync(response);
        Assert.Contains("1048576 bytes", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal("body", problem.GetProperty("field").GetString());
        Assert.DoesNotContain(logs.Lines, l => l.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Slow_body_is_408_problem_naming_the_rate_and_no_error_is_logged()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await StartAsync(logs, configure: services => services.Configure<KestrelServerOptions>(o =>
            o.Limits.MinRequestBodyDataRate = new MinDataRate(bytesPerSecond: 1000, gracePeriod: TimeSpan.FromSeconds(2))));
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(host.BaseAddress.Host, host.BaseAddress.Port);
        var stream = tcp.GetStream();
        var head = $"POST /api/alerts/alertmanager HTTP/1.1\r\nHost: {host.BaseAddress.Authority}\r\nAuthorization: Bearer {HostHarness.Token}\r\n" +
            "Content-Type: application/json\r\nContent-Length: 100000\r\n\r\n{\"version\":\"4\",";
        await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
        // Then nothing: the server must give up on its own (the read below waits for its answer).
        using var reader = new StreamReader(stream, Encoding.UTF8);
        var response = await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.StartsWith("HTTP/1.1 408", response, StringComparison.Ordinal);
        Assert.Contains("application/problem+json", response, StringComparison.Ordinal);
        Assert.Contains("bytes per second", response, StringComparison.Ordinal);
        Assert.DoesNotContain(logs.Lines, l => l.Level >= LogLevel.Error);
    }

    [Fact]
    public async Task Huge_header_is_431_and_no_error_is_logged()
    {
        var logs = new CapturingLoggerProvider();
        await using var host = await StartAsync(logs);
        using var request = new HttpRequestMessage(HttpMethod.Post, "api/alerts/alertmanager") { Content = new StringContent("{}", Encoding.UTF8, "application/json") };
        request.Headers.Add("X-Padding", new string('a', 64 * 1024));
        using var response = await host.Client.SendAsync(request);
        // Kestrel answers 431 before the pipeline runs, without a body (see HttpEdges); it must not log an error.
        Assert.Equal(HttpStatusCode.RequestHeaderFieldsTooLarge, response.StatusCode);
        using var ok = await host.Client.GetAsync("healthz");
        Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
        Assert.DoesNotContain(logs.Lines, l => l.Level >= LogLevel.Error);
    }

    private Task<HostHarness> StartAsync(CapturingLoggerProvider logs, IDictionary<string, string?>? settings = null, Action<IServiceCollection>? configure = null) =>
        HostHarness.StartAsync(storage.ConnectionString, null, settings: settings, worker: false, configureServices: services =>
        {
            services.AddSingleton<ILoggerProvider>(logs);
            configure?.Invoke(services);
        });

    /// <summary>A stream whose length HttpClient cannot know (so it sends chunked).</summary>
    private sealed class UnknownLengthStream(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }
}

/// <summary>Every formatted log line of a host, with its level (after the host's own redaction).</summary>
public sealed class CapturingLoggerProvider : ILoggerProvider
{
    private readonly ConcurrentQueue<(LogLevel Level, string Text)> _lines = new();

    public IEnumerable<(LogLevel Level, string Text)> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => new Logger(categoryName, _lines);

    public void Dispose()
    {
    }

    private sealed class Logger(string category, ConcurrentQueue<(LogLevel, string)> lines) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            lines.Enqueue((logLevel, $"{category}: {formatter(state, exception)}{(exception is null ? "" : " " + exception)}"));
    }
}
