using System.Net.Http.Headers;
using System.Text;
using Azure.Core;
using Azure.Identity;

namespace Remediation.Metrics;

/// <summary>Adds credentials to a Prometheus request: none, basic, bearer or an Entra ID token (Azure Monitor managed Prometheus).</summary>
public abstract class PrometheusAuthenticator
{
    public const string AzureMonitorScope = "https://prometheus.monitor.azure.com/.default";

    public abstract string Kind { get; }

    public abstract ValueTask ApplyAsync(HttpRequestMessage request, CancellationToken cancellationToken = default);

    public static PrometheusAuthenticator None { get; } = new NoAuthenticator();

    /// <summary>The authenticator <see cref="PrometheusOptions.Auth"/> names.</summary>
    public static PrometheusAuthenticator For(PrometheusOptions options, TimeProvider timeProvider, TokenCredential? azureCredential = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        return (options.Auth ?? "none").Trim().ToLowerInvariant() switch
        {
            "" or "none" => None,
            "basic" => new BasicAuthenticator(
                options.Username ?? throw new InvalidOperationException("Remediation:Prometheus:Auth=basic needs Username"), options.Password ?? ""),
            "bearer" => new BearerAuthenticator(
                options.BearerToken ?? throw new InvalidOperationException("Remediation:Prometheus:Auth=bearer needs BearerToken")),
            "azure" => new AzureTokenAuthenticator(azureCredential ?? new DefaultAzureCredential(), timeProvider),
            var other => throw new InvalidOperationException($"Remediation:Prometheus:Auth '{other}' is not one of none, basic, bearer, azure"),
        };
    }

    private sealed class NoAuthenticator : PrometheusAuthenticator
    {
        public override string Kind => "none";

        public override ValueTask ApplyAsync(HttpRequestMessage request, CancellationToken cancellationToken = default) => ValueTask.CompletedTask;
    }
}

public sealed class BasicAuthenticator(string username, string password) : PrometheusAuthenticator
{
    private readonly AuthenticationHeaderValue _header = new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(username + ":" + password)));

    public override string Kind => "basic";

    public override ValueTask ApplyAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Authorization = _header;
        return ValueTask.CompletedTask;
    }
}

public sealed class BearerAuthenticator(string token) : PrometheusAuthenticator
{
    private readonly AuthenticationHeaderValue _header = new("Bearer", token);

    public override string Kind => "bearer";

    public override ValueTask ApplyAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        request.Headers.Authorization = _header;
        return ValueTask.CompletedTask;
    }
}

/// <summary>
/// An Entra ID token for <see cref="PrometheusAuthenticator.AzureMonitorScope"/> (DefaultAzureCredential or a managed identity),
/// cached until <see cref="RefreshMargin"/> before it expires (or its RefreshOn), measured on the TimeProvider.
/// </summary>
public sealed class AzureTokenAuthenticator(TokenCredential credential, TimeProvider timeProvider, string scope = PrometheusAuthenticator.AzureMonitorScope)
    : PrometheusAuthenticator
{
    public static readonly TimeSpan RefreshMargin = TimeSpan.FromMinutes(5);
    private readonly SemaphoreSlim _gate = new(1, 1);
    private AccessToken? _token;

    public override string Kind => "azure";

    public override async ValueTask ApplyAsync(HttpRequestMessage request, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        var token = await GetTokenAsync(cancellationToken).ConfigureAwait(false);
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token.Token);
    }

    public async ValueTask<AccessToken> GetTokenAsync(CancellationToken cancellationToken = default)
    {
        if (_token is { } cached && Fresh(cached))
        {
            return cached;
        }
        await _gate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            if (_token is { } again && Fresh(again))
            {
                return again;
            }
            var token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
            _token = token;
            return token;
        }
        finally
        {
            _gate.Release();
        }
    }

    private bool Fresh(AccessToken token)
    {
        var now = timeProvider.GetUtcNow();
        return now < token.ExpiresOn - RefreshMargin && (token.RefreshOn is not { } refreshOn || now < refreshOn);
    }
}
