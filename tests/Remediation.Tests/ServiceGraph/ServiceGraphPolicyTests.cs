using Remediation.Policy;
using Remediation.ServiceGraph;

namespace Remediation.Tests.ServiceGraph;

/// <summary>The policy's serviceGraph section: Kiali's defaults, overrides, and errors naming the key and the line.</summary>
public sealed class ServiceGraphPolicyTests
{
    [Fact]
    public void Without_the_section_the_blame_uses_Kialis_tolerances()
    {
        var policy = PolicyLoader.Parse("allow:\n  namespaces: [shop]\n");

        Assert.Equal(BlameOptions.Default, policy.ServiceGraph);
        Assert.Equal(HealthThresholds.Kiali, policy.ServiceGraph.Health);
    }

    [Fact]
    public void Overrides_replace_only_the_keys_given()
    {
        var policy = PolicyLoader.Parse("serviceGraph:\n  serverErrorFailure: 0.25\n  minRequestsPerSecond: 2\n  tolerance: 0.1\n");

        Assert.Equal(new HealthThresholds(ServerErrorFailure: 0.25, MinRequestsPerSecond: 2), policy.ServiceGraph.Health);
        Assert.Equal(0.1, policy.ServiceGraph.Tolerance);
        Assert.Equal(BlameOptions.Default.PartialFactor, policy.ServiceGraph.PartialFactor);
    }

    [Fact]
    public void Bad_values_are_errors_naming_the_key_and_line()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse(
            "serviceGraph:\n  serverErrorFailure: 1.5\n  minRequestsPerSecond: -1\n  clientErrorDegraded: 0.5\n  clientErrorFailure: 0.3\n  colour: red\n", "p.yaml"));

        Assert.Equal(
        [
            "p.yaml:6: unknown key 'colour' (expected one of: serverErrorDegraded, serverErrorFailure, clientErrorDegraded, clientErrorFailure, minRequestsPerSecond, tolerance, partialFactor)",
            "p.yaml:2: 'serviceGraph.serverErrorFailure' must be a ratio between 0 and 1, not '1.5'",
            "p.yaml:3: 'serviceGraph.minRequestsPerSecond' must be a request rate of 0 or more (requests per second), not '-1'",
            "p.yaml:2: serviceGraph.clientErrorDegraded must not be above clientErrorFailure",
        ], ex.Errors);
    }
}
