using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;
using Remediation.Host;

namespace Remediation.Tests.AzureSources;

/// <summary>HMAC timestamps and the replay window follow the injected TimeProvider.</summary>
public sealed class HmacClockTests
{
    private const string Secret = "hmac-clock-test";

    [Fact]
    public async Task Signature_is_accepted_once_and_refused_as_stale_after_the_tolerance()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T03:00:00Z", CultureInfo.InvariantCulture));
        var authenticator = new WebhookAuthenticator(new WebhookAuthOptions { HmacSecrets = [Secret] }, clock, NullLogger<WebhookAuthenticator>.Instance);
        var timestamp = clock.GetUtcNow().ToUnixTimeSeconds();

        Assert.Null(await authenticator.CheckAsync(Signed("{\"a\":1}", timestamp)));
        clock.Advance(TimeSpan.FromMinutes(1));
        Assert.Contains("replayed", (await authenticator.CheckAsync(Signed("{\"a\":1}", timestamp)))?.Reason, StringComparison.Ordinal);
        Assert.Null(await authenticator.CheckAsync(Signed("{\"a\":2}", timestamp)));
        clock.Advance(TimeSpan.FromMinutes(4) + TimeSpan.FromSeconds(1));
        var stale = await authenticator.CheckAsync(Signed("{\"a\":3}", timestamp));
        Assert.Equal(401, stale?.Status);
        Assert.Contains("more than 5 minutes", stale?.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Body_stays_readable_for_the_endpoint_after_verification()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.Parse("2026-11-26T03:00:00Z", CultureInfo.InvariantCulture));
        var authenticator = new WebhookAuthenticator(new WebhookAuthOptions { HmacSecrets = [Secret] }, clock, NullLogger<WebhookAuthenticator>.Instance);
        var request = Signed("{\"body\":true}", clock.GetUtcNow().ToUnixTimeSeconds());
        Assert.Null(await authenticator.CheckAsync(request));
        using var reader = new StreamReader(request.Body);
        Assert.Equal("{\"body\":true}", await reader.ReadToEndAsync());
    }

    private static HttpRequest Signed(string body, long timestamp)
    {
        var context = new DefaultHttpContext();
        var ts = timestamp.ToString(CultureInfo.InvariantCulture);
        var bytes = Encoding.UTF8.GetBytes(body);
        context.Request.Method = "POST";
        context.Request.Body = new MemoryStream(bytes);
        context.Request.ContentLength = bytes.Length;
        context.Request.Headers["X-Remediation-Timestamp"] = ts;
        context.Request.Headers["X-Remediation-Signature"] =
            "sha256=" + Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(Secret), Encoding.UTF8.GetBytes(ts + "." + body)));
        return context.Request;
    }
}
