using System.Net;
using k8s.Autorest;
using Remediation.Alerts;
using Remediation.Cluster;
using Remediation.Tests.Diagnosis;

namespace Remediation.Tests.Targeting;

/// <summary>
/// An object on the ownership chain the remediator may not read (403) leaves the owner unknown, said so: found in review,
/// a Role without jobs made the read throw, the work item was retried until poisoned and the incident read Failed.
/// </summary>
public sealed class RefusedReadTests
{
    [Fact]
    public async Task A_refused_read_on_the_ownership_chain_is_an_unknown_owner_naming_the_role()
    {
        var reader = new InMemoryClusterReader
        {
            MetadataFailure = kind => kind == WorkloadKinds.Job ? Forbidden("jobs.batch \"nightly-123\" is forbidden") : null,
        };

        var resolution = await new OwnerResolver(reader).ResolveAsync(new WorkloadTarget("shop", "nightly-123", WorkloadKinds.Job));

        Assert.Null(resolution.Owner);
        Assert.Contains("refused (403", resolution.Problem, StringComparison.Ordinal);
        Assert.Contains("rbac.template.yaml", resolution.Problem, StringComparison.Ordinal);
    }

    private static HttpOperationException Forbidden(string message) => new(message)
    {
        Response = new HttpResponseMessageWrapper(new HttpResponseMessage(HttpStatusCode.Forbidden) { ReasonPhrase = "Forbidden" }, message),
    };
}
