using CsCheck;
using Remediation.ServiceGraph;
using static Remediation.Tests.ServiceGraph.GraphFigures;

namespace Remediation.Tests.ServiceGraph;

/// <summary>The blame rules on tables of edge figures, noise included.</summary>
public sealed class BlameAnalyzerTests
{
    private static Blame Errors(string alerted, params GraphEdge[] edges) => BlameAnalyzer.Analyze(Graph(alerted, edges), W(alerted), Symptom.Errors);

    [Fact]
    public void Cascade_follows_the_chain_to_the_deepest_failing_workload()
    {
        var blame = Errors("frontend", Cascade());

        Assert.Equal(BlameVerdict.Callee, blame.Verdict);
        Assert.Equal(W("payments"), blame.Culprit);
        Assert.Equal([W("frontend"), W("checkout"), W("payments")], blame.Chain);
        Assert.Equal([W("checkout"), W("frontend")], blame.Victims);
        Assert.Contains(blame.Evidence, e => System.Text.RegularExpressions.Regex.IsMatch(e,
            @"^shop/frontend fails 10\.1 req/s \(25\.[23] % of 40 req/s\); its calls to shop/checkout fail 10 req/s \(50\.1 %\): 99\.\d % of its failures$"));
        Assert.Contains("shop/payments fails for all of its 1 caller(s): shop/checkout 50 %", blame.Evidence);
        Assert.Equal("shop/frontend is a victim of shop/payments (shop/frontend -> shop/checkout -> shop/payments)", blame.Summary);
    }

    [Fact]
    public void The_culprit_alerted_itself_is_its_own_fault_and_names_its_victims()
    {
        var blame = Errors("payments", Cascade());

        Assert.Equal(BlameVerdict.OwnFault, blame.Verdict);
        Assert.Equal(W("payments"), blame.Culprit);
        Assert.Equal([W("checkout"), W("frontend")], blame.Victims);
        Assert.Contains(blame.Evidence, e => e.Contains("calls no workload in the mesh", StringComparison.Ordinal));
    }

    [Fact]
    public void A_caller_with_healthy_callees_is_its_own_culprit()
    {
        GraphEdge[] edges =
        [
            Edge("unknown", "frontend", 30, server: 0.401),
            Edge("frontend", "checkout", 30, server: 0.4),
            Edge("checkout", "payments", 30),
            Edge("checkout", "inventory", 30),
        ];

        var own = Errors("checkout", edges);
        Assert.Equal(BlameVerdict.OwnFault, own.Verdict);
        Assert.Equal(W("checkout"), own.Culprit);
        Assert.Equal([W("frontend")], own.Victims);
        Assert.Contains(own.Evidence, e => e.Contains("its callees answer it (failed calls: shop/payments 0 % of 30 req/s, shop/inventory 0 % of 30 req/s)", StringComparison.Ordinal));

        var victim = Errors("frontend", edges);
        Assert.Equal(BlameVerdict.Callee, victim.Verdict);
        Assert.Equal(W("checkout"), victim.Culprit);
    }

    [Fact]
    public void A_shared_dependency_failing_for_all_callers_is_the_culprit_of_both_grpc_and_http_callers()
    {
        GraphEdge[] edges =
        [
            Edge("unknown", "orders", 20, server: 0.401),
            Edge("unknown", "catalog", 30, server: 0.401),
            Edge("orders", "inventory", 20, server: 0.4),
            Edge("catalog", "inventory", 30, grpc: 0.4),
        ];

        var blame = Errors("catalog", edges);
        Assert.Equal(W("inventory"), blame.Culprit);
        Assert.Equal([W("catalog"), W("orders")], blame.Victims);
        Assert.Contains("shop/inventory fails for all of its 2 caller(s): shop/orders 40 %, shop/catalog 40 %", blame.Evidence);
    }

    public static TheoryData<string, GraphEdge[], string> Noise => new()
    {
        {
            "partial: the callee fails for one caller only",
            [Edge("unknown", "orders", 20, server: 0.4), Edge("orders", "inventory", 20, server: 0.4), Edge("catalog", "inventory", 30, server: 0.001)],
            "shop/inventory fails for shop/orders but not for shop/catalog (0.1 %): a partial failure, shop/inventory is not blamed"
        },
        {
            "low volume",
            [Edge("unknown", "orders", 0.05, server: 1), Edge("orders", "inventory", 0.05, server: 1)],
            "shop/orders received 0.05 req/s over 5 min (minimum 0.1 req/s): not enough traffic to judge"
        },
        {
            "4xx only",
            [Edge("unknown", "orders", 20, client: 0.3), Edge("orders", "inventory", 20, client: 0.3)],
            "shop/orders answers only client errors (4xx 30 % of 20 req/s, 5xx 0 %): no callee is to blame for requests its callers got wrong"
        },
        {
            "no telemetry for the alerted workload",
            [Edge("frontend", "catalog", 20)],
            "shop/orders received 0 req/s over 5 min (minimum 0.1 req/s): not enough traffic to judge"
        },
    };

    [Theory]
    [MemberData(nameof(Noise))]
    public void Noise_gives_unknown_with_the_alerted_workload_suspected(string situation, GraphEdge[] edges, string evidence)
    {
        var blame = Errors("orders", edges);

        Assert.True(blame.Verdict == BlameVerdict.Unknown, situation);
        Assert.Null(blame.Culprit);
        Assert.Equal(W("orders"), blame.Suspected);
        Assert.Empty(blame.Victims);
        Assert.Contains(evidence, blame.Evidence);
        Assert.Equal("unknown, suspected shop/orders", blame.Summary);
    }

    [Fact]
    public void Unreadable_telemetry_is_unknown_never_healthy()
    {
        var blame = BlameAnalyzer.Analyze(GraphReading.Failed("connection refused"), W("checkout"), Symptom.Errors);

        Assert.Equal(BlameVerdict.Unknown, blame.Verdict);
        Assert.Equal(W("checkout"), blame.Suspected);
        Assert.Equal(["mesh telemetry unreadable: connection refused"], blame.Evidence);
    }

    [Theory]
    [InlineData(0.05, "account for only 12.5 %")]  // the callee fails a little: the caller's own 40 % is not explained
    [InlineData(0, "its callees answer it")]
    public void Callee_failures_that_do_not_account_for_the_callers_leave_it_its_own_culprit(double calleeFailure, string evidence)
    {
        var blame = Errors("checkout", Edge("unknown", "checkout", 20, server: 0.4), Edge("checkout", "payments", 20, server: calleeFailure));

        Assert.Equal(BlameVerdict.OwnFault, blame.Verdict);
        Assert.Contains(blame.Evidence, e => e.Contains(evidence, StringComparison.Ordinal));
    }

    [Fact]
    public void A_callee_answering_4xx_is_not_blamed_for_its_callers_5xx()
    {
        var blame = Errors("checkout", Edge("unknown", "checkout", 20, server: 0.4), Edge("checkout", "payments", 20, client: 0.5));

        Assert.Equal(BlameVerdict.OwnFault, blame.Verdict);
        Assert.Equal(W("checkout"), blame.Culprit);
    }

    [Fact]
    public void A_healthy_workload_has_no_problem()
    {
        var blame = Errors("checkout", Edge("unknown", "checkout", 20), Edge("checkout", "payments", 20));

        Assert.Equal(BlameVerdict.NoProblem, blame.Verdict);
        Assert.Null(blame.Culprit);
    }

    [Theory]
    [InlineData(2400, "pricing")]  // the callee's p99 explains the caller's
    [InlineData(40, "frontend")]   // a fast callee does not
    public void Latency_is_blamed_on_the_callee_whose_p99_explains_the_callers(double pricingP99, string culprit)
    {
        GraphEdge[] edges =
        [
            Edge("unknown", "frontend", 50, p99: pricingP99 + 130),
            Edge("frontend", "catalog", 50, p99: pricingP99 + 40),
            Edge("catalog", "pricing", 50, p99: pricingP99),
        ];
        if (culprit == "frontend")
        {
            edges[0] = Edge("unknown", "frontend", 50, p99: 2000);
        }

        var blame = BlameAnalyzer.Analyze(Graph("frontend", edges), W("frontend"), Symptom.Latency);

        Assert.Equal(W(culprit), blame.Culprit);
        Assert.Equal(culprit == "frontend" ? BlameVerdict.OwnFault : BlameVerdict.Callee, blame.Verdict);
    }

    /// <summary>p99 figures as Prometheus reads them from Istio's buckets (…, 1000, 2500, 5000, 10000 ms) over a short window.</summary>
    [Theory]
    [InlineData(5100, 2575, 2441, "pricing")]   // read one bucket above its callee's (2.6 s as 5.1 s): still the callee's latency
    [InlineData(3717, 2600, 2441, "pricing")]
    [InlineData(2600, 2575, 2441, "pricing")]
    [InlineData(4000, 1200, 1100, "frontend")]  // over three times its callee's: its own
    [InlineData(2000, 80, 40, "frontend")]
    public void Latency_figures_are_compared_within_the_histograms_resolution(double frontend, double catalog, double pricing, string culprit)
    {
        var blame = BlameAnalyzer.Analyze(Graph("frontend",
            Edge("unknown", "frontend", 50, p99: frontend), Edge("frontend", "catalog", 50, p99: catalog), Edge("catalog", "pricing", 50, p99: pricing)),
            W("frontend"), Symptom.Latency);

        Assert.Equal((W(culprit), culprit == "frontend" ? BlameVerdict.OwnFault : BlameVerdict.Callee), (blame.Culprit, blame.Verdict));
        Assert.Equal(culprit == "frontend" ? [] : new[] { W("catalog"), W("frontend") }, blame.Victims);
    }

    /// <summary>Whatever the figures: a failing caller whose callees all answer it without server errors is its own culprit.</summary>
    [Fact]
    public void Property_a_caller_whose_callees_are_all_healthy_is_its_own_culprit()
    {
        var gen = Gen.Select(Gen.Double[0.5, 500], Gen.Double[0.001, 1], Gen.Double[0.5, 500].Array[0, 5], Gen.Double[0, 0.09].Array[5]);
        gen.Sample((rps, failure, calleeRates, client) =>
        {
            var edges = new List<GraphEdge> { Edge("unknown", "caller", rps, server: failure) };
            edges.AddRange(calleeRates.Select((r, i) => Edge("caller", $"callee-{i}", r, client: client[i])));
            var blame = Errors("caller", [.. edges]);
            return blame.Verdict == BlameVerdict.OwnFault && blame.Culprit == W("caller") && blame.Victims.Count == 0;
        }, iter: 500);
    }

    /// <summary>Whatever the rates: a callee failing alike for every caller, whose failures are the caller's, is blamed.</summary>
    [Fact]
    public void Property_a_callee_failing_for_all_callers_and_explaining_the_failures_is_the_culprit()
    {
        var gen = Gen.Select(Gen.Double[1, 500], Gen.Double[0.11, 1], Gen.Double[1, 500].Array[0, 4]);
        gen.Sample((rps, failure, otherCallers) =>
        {
            var edges = new List<GraphEdge> { Edge("unknown", "caller", rps, server: failure), Edge("caller", "dependency", rps, server: failure) };
            edges.AddRange(otherCallers.Select((r, i) => Edge($"other-{i}", "dependency", r, server: failure)));
            var blame = Errors("caller", [.. edges]);
            return blame.Verdict == BlameVerdict.Callee && blame.Culprit == W("dependency") && blame.Victims.Contains(W("caller"));
        }, iter: 500);
    }
}
