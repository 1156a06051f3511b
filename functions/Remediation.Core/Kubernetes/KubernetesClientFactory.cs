using System.Net.Http.Headers;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Azure.Core;
using Azure.Identity;
using k8s;
using k8s.Authentication;

namespace Remediation.Kubernetes;

/// <summary>Builds the one <see cref="IKubernetes"/> the product uses: kubeconfig, in-cluster, or an explicit server URL.</summary>
public static class KubernetesClientFactory
{
    public static IKubernetes Create(KubernetesOptions options, TimeProvider timeProvider) => new k8s.Kubernetes(Configuration(options, timeProvider));

    /// <summary>The client's configuration from the options (what <see cref="Create"/> builds the client with).</summary>
    internal static KubernetesClientConfiguration Configuration(KubernetesOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        KubernetesClientConfiguration config;
        if (!string.IsNullOrWhiteSpace(options.ServerUrl))
        {
            config = new KubernetesClientConfiguration { Host = options.ServerUrl.TrimEnd('/') };
            if (CertificateAuthorities(options.CertificateAuthorityData) is { Count: > 0 } authorities)
            {
                config.SslCaCerts = authorities;
            }
            if (options.TokenScope is { Length: > 0 } scope)
            {
                config.TokenProvider = new EntraIdTokenProvider(new DefaultAzureCredential(), scope, timeProvider);
            }
        }
        else if (!string.IsNullOrEmpty(options.KubeconfigPath))
        {
            config = KubernetesClientConfiguration.BuildConfigFromConfigFile(options.KubeconfigPath, options.Context);
        }
        else if (KubernetesClientConfiguration.IsInCluster())
        {
            config = KubernetesClientConfiguration.InClusterConfig();
        }
        else
        {
            config = KubernetesClientConfiguration.BuildDefaultConfig();
        }
        config.HttpClientTimeout = options.RequestTimeout;
        return config;
    }

    /// <summary>
    /// The certificates in <paramref name="base64Pem"/> (base64 of PEM, as a kubeconfig carries them); empty when none is
    /// given. A value that is not that throws <see cref="FormatException"/> (the options validator refuses it at start).
    /// </summary>
    internal static X509Certificate2Collection CertificateAuthorities(string? base64Pem)
    {
        var authorities = new X509Certificate2Collection();
        if (!string.IsNullOrWhiteSpace(base64Pem))
        {
            authorities.ImportFromPem(Encoding.ASCII.GetString(Convert.FromBase64String(base64Pem.Trim())));
            if (authorities.Count == 0)
            {
                throw new FormatException("no PEM certificate in it");
            }
        }
        return authorities;
    }

    /// <summary>Bearer tokens for AKS with Entra ID (managed identity in Azure).</summary>
    private sealed class EntraIdTokenProvider(TokenCredential credential, string scope, TimeProvider timeProvider) : ITokenProvider
    {
        private AccessToken _token;

        public async Task<AuthenticationHeaderValue> GetAuthenticationHeaderAsync(CancellationToken cancellationToken)
        {
            if (_token.ExpiresOn < timeProvider.GetUtcNow().AddMinutes(5))
            {
                _token = await credential.GetTokenAsync(new TokenRequestContext([scope]), cancellationToken).ConfigureAwait(false);
            }
            return new AuthenticationHeaderValue("Bearer", _token.Token);
        }
    }
}
