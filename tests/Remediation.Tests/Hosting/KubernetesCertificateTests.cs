using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Remediation.Kubernetes;

namespace Remediation.Tests.Hosting;

/// <summary>
/// An API server reached by URL (AKS) is verified against the CA its kubeconfig names: found in review, the client had
/// only the system trust store, which does not hold a cluster's own CA, so every call of a deployment failed TLS.
/// </summary>
public sealed class KubernetesCertificateTests
{
    [Fact]
    public void The_configured_certificate_authority_is_what_the_client_trusts()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var ca = new CertificateRequest("CN=cluster-ca", key, HashAlgorithmName.SHA256).CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var data = Convert.ToBase64String(Encoding.ASCII.GetBytes(ca.ExportCertificatePem()));

        var config = KubernetesClientFactory.Configuration(new KubernetesOptions { ServerUrl = "https://cluster.example:443", CertificateAuthorityData = data }, TimeProvider.System);

        Assert.Equal(ca.Thumbprint, Assert.Single(config.SslCaCerts!).Thumbprint);
        Assert.Equal("https://cluster.example:443", config.Host);
        Assert.Null(KubernetesClientFactory.Configuration(new KubernetesOptions { ServerUrl = "https://cluster.example:443" }, TimeProvider.System).SslCaCerts);
    }
}
