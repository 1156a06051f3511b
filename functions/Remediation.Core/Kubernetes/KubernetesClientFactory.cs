using System.Net.Http.Headers;
using Azure.Core;
using Azure.Identity;
using k8s;
using k8s.Authentication;

namespace Remediation.Kubernetes;

/// <summary>Builds the one <see cref="IKubernetes"/> the product uses: kubeconfig, in-cluster, or an explicit server URL.</summary>
public static class KubernetesClientFactory
{
    public static IKubernetes Create(KubernetesOptions options, TimeProvider timeProvider)
    {
        ArgumentNullException.ThrowIfNull(options);
        KubernetesClientConfiguration config;
        if (!string.IsNullOrWhiteSpace(options.ServerUrl))
        {
            config = new KubernetesClientConfiguration { Host = options.ServerUrl.TrimEnd('/') };
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
        return new k8s.Kubernetes(config);
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
