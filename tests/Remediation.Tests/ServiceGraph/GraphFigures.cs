using Remediation.ServiceGraph;

namespace Remediation.Tests.ServiceGraph;

/// <summary>Builds mesh graphs from edge figures written as a table: "frontend -> checkout: 20 rps, 5xx 0.5".</summary>
internal static class GraphFigures
{
    public static WorkloadId W(string name) => name == "unknown" ? WorkloadId.Unknown : new WorkloadId("shop", name);

    public static GraphEdge Edge(string source, string destination, double rps, double server = 0, double client = 0, double grpc = 0, double? p99 = 50) =>
        new(W(source), W(destination), new EdgeStats(rps, server, client, grpc, p99, null), source == "unknown" ? "destination" : "source");

    public static GraphReading Graph(string center, params GraphEdge[] edges) => GraphReading.Of(new MeshGraph(W(center), TimeSpan.FromMinutes(5), edges));

    /// <summary>frontend -> checkout -> payments (+ frontend -> catalog) with payments failing half its requests.</summary>
    public static GraphEdge[] Cascade(double paymentsFailure = 0.5) =>
    [
        Edge("unknown", "frontend", 40, server: 0.001 + (0.5 * (0.001 + paymentsFailure)) + 0.001, p99: 500),
        Edge("frontend", "checkout", 20, server: 0.001 + paymentsFailure, p99: 430),
        Edge("frontend", "catalog", 40, server: 0.001, p99: 40),
        Edge("checkout", "payments", 20, server: paymentsFailure, p99: 250),
    ];
}
