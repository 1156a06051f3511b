using Remediation.ServiceGraph;

namespace Remediation.Tests.ServiceGraph;

public sealed class HealthRulesTests
{
    [Theory]
    [InlineData(10, 0, 0, 0, Health.Healthy)]
    [InlineData(10, 0.0001, 0, 0, Health.Degraded)]     // 5xx: degraded above 0 %
    [InlineData(10, 0.0999, 0, 0, Health.Degraded)]
    [InlineData(10, 0.10, 0, 0, Health.Failure)]        // 5xx: failure at 10 %
    [InlineData(10, 0, 0.0999, 0, Health.Healthy)]      // 4xx: healthy below 10 %
    [InlineData(10, 0, 0.10, 0, Health.Degraded)]
    [InlineData(10, 0, 0.20, 0, Health.Failure)]        // 4xx: failure at 20 %
    [InlineData(10, 0, 0, 0.05, Health.Degraded)]       // gRPC errors count as 5xx
    [InlineData(10, 0.05, 0, 0.05, Health.Failure)]     // ... and add up with them
    [InlineData(10, 0.01, 0.25, 0, Health.Failure)]     // the worse of the two
    [InlineData(0.05, 0.9, 0, 0, Health.NotEnoughTraffic)] // low volume is not judged, not healthy
    [InlineData(0, 0, 0, 0, Health.NotEnoughTraffic)]
    public void Kiali_default_tolerances(double rps, double server, double client, double grpc, Health expected) =>
        Assert.Equal(expected, HealthRules.Of(new EdgeStats(rps, server, client, grpc, 10, null)));

    [Fact]
    public void Thresholds_can_be_overridden()
    {
        var lenient = new HealthThresholds(ServerErrorDegraded: 0.01, ServerErrorFailure: 0.05, MinRequestsPerSecond: 1);
        Assert.Null(lenient.Problem());
        Assert.Equal(Health.Healthy, HealthRules.Of(new EdgeStats(10, 0.005, 0, 0, null, null), lenient));
        Assert.Equal(Health.Failure, HealthRules.Of(new EdgeStats(10, 0.05, 0, 0, null, null), lenient));
        Assert.Equal(Health.NotEnoughTraffic, HealthRules.Of(new EdgeStats(0.5, 0.5, 0, 0, null, null), lenient));
    }

    [Theory]
    [InlineData(-0.1, 0.1, "serverErrorDegraded")]
    [InlineData(0.2, 0.1, "serverErrorDegraded must not be above serverErrorFailure")]
    [InlineData(0, 1.5, "serverErrorFailure")]
    public void Unusable_thresholds_are_named(double degraded, double failure, string expected) =>
        Assert.StartsWith(expected, new HealthThresholds(degraded, failure).Problem(), StringComparison.Ordinal);

    [Fact]
    public void Node_health_is_its_inbound_traffic_from_all_callers()
    {
        var graph = GraphFigures.Graph("checkout", GraphFigures.Edge("frontend", "checkout", 10, server: 0.3), GraphFigures.Edge("admin", "checkout", 30)).Graph!;
        var inbound = graph.Inbound(GraphFigures.W("checkout"))!;
        Assert.Equal(40, inbound.RequestsPerSecond);
        Assert.Equal(0.075, inbound.ServerErrorRatio, 6);
        Assert.Equal(Health.Degraded, HealthRules.OfNode(graph, GraphFigures.W("checkout")));
        Assert.Equal(Health.NotEnoughTraffic, HealthRules.OfNode(graph, GraphFigures.W("frontend")));
    }
}
