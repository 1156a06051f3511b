using Remediation.ClusterSimulator;
using Remediation.Diagnosis;
using Remediation.Tests.Fixtures;
using YamlDotNet.RepresentationModel;

namespace Remediation.Tests.Infra;

/// <summary>The Kubernetes RBAC manifest is least privilege and covers every call the product makes.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class RbacManifestTests(AzuriteFixture storage)
{
    private sealed record Rule(string Group, string Resource, IReadOnlySet<string> Verbs);

    /// <summary>What the product needs, by (group, resource): reads for diagnosis, patches/deletes for actions.</summary>
    private static readonly Dictionary<(string Group, string Resource), string[]> Needed = new()
    {
        [("", "pods")] = ["get", "list", "delete"],
        [("", "events")] = ["list"],
        [("apps", "deployments")] = ["get", "patch"],
        [("apps", "deployments/scale")] = ["get", "patch"],
        [("apps", "replicasets")] = ["get", "list"],
        [("batch", "jobs")] = ["get"],
        [("autoscaling", "horizontalpodautoscalers")] = ["get", "list", "patch"],
        [("networking.istio.io", "virtualservices")] = ["get", "list", "patch"],
        [("networking.istio.io", "destinationrules")] = ["list"],
        [("gateway.networking.k8s.io", "httproutes")] = ["get", "list", "patch"],
    };

    private static List<Rule> LoadRules(string file)
    {
        var stream = new YamlStream();
        stream.Load(new StringReader(File.ReadAllText(Path.Combine(RepoPaths.Root, "infra", "kubernetes", file))));
        var rules = new List<Rule>();
        foreach (var doc in stream.Documents)
        {
            var root = (YamlMappingNode)doc.RootNode;
            var kind = ((YamlScalarNode)root["kind"]).Value;
            Assert.NotEqual("ClusterRole", kind);
            Assert.NotEqual("ClusterRoleBinding", kind);
            if (kind != "Role")
            {
                continue;
            }
            foreach (var rule in ((YamlSequenceNode)root["rules"]).Cast<YamlMappingNode>())
            {
                var groups = Scalars(rule, "apiGroups");
                var resources = Scalars(rule, "resources");
                var verbs = Scalars(rule, "verbs").ToHashSet();
                Assert.False(rule.Children.ContainsKey(new YamlScalarNode("nonResourceURLs")), "nonResourceURLs in a Role");
                foreach (var group in groups)
                {
                    foreach (var resource in resources)
                    {
                        rules.Add(new Rule(group, resource, verbs));
                    }
                }
            }
        }
        return rules;
    }

    private static List<string> Scalars(YamlMappingNode node, string key) =>
        node.Children.TryGetValue(new YamlScalarNode(key), out var value) ? ((YamlSequenceNode)value).Cast<YamlScalarNode>().Select(s => s.Value!).ToList() : [];

    [Theory]
    [InlineData("rbac.example.yaml")]
    [InlineData("rbac.template.yaml")]
    public void Manifest_has_no_wildcards_no_secrets_and_no_verb_the_product_does_not_use(string file)
    {
        var rules = LoadRules(file);
        Assert.NotEmpty(rules);
        foreach (var rule in rules)
        {
            Assert.DoesNotContain("*", rule.Group);
            Assert.DoesNotContain("*", rule.Resource);
            Assert.DoesNotContain("*", rule.Verbs);
            Assert.NotEqual("secrets", rule.Resource);
            Assert.NotEqual("configmaps", rule.Resource);
            Assert.True(Needed.TryGetValue((rule.Group, rule.Resource), out var needed), $"'{rule.Group}/{rule.Resource}' is granted but the product does not use it");
            var extra = rule.Verbs.Except(needed).ToList();
            Assert.True(extra.Count == 0, $"'{rule.Group}/{rule.Resource}' grants verbs the product does not use: {string.Join(",", extra)}");
        }
    }

    [Fact]
    public async Task Every_call_the_product_makes_in_the_action_scenarios_is_granted()
    {
        var rules = LoadRules("rbac.example.yaml");
        var policy = await File.ReadAllTextAsync(Path.Combine(RepoPaths.Root, "examples", "policy.yaml"));
        var recorded = new List<RecordedRequest>();
        async Task RunAsync(string scenario, string ns, string workload, IDiagnoser? diagnoser = null)
        {
            await using var harness = await PipelineHarness.StartAsync(storage.ConnectionString, scenario, policy, diagnoser);
            harness.Cluster.ClearRequests();
            await harness.FireAsync(PipelineHarness.Alert(ns, workload));
            await harness.AdvanceAsync(TimeSpan.FromMinutes(2), TimeSpan.FromSeconds(10));
            await harness.SweepAsync();
            recorded.AddRange(harness.Cluster.Requests);
        }
        await RunAsync("bad-rollout.yaml", "shop", "checkout");
        await RunAsync("crashloop-no-change.yaml", "shop", "worker");
        await RunAsync("oom.yaml", "shop", "cart");
        await RunAsync("v2-degraded.yaml", "shop", "reviews-v2", FixedDiagnoser.Of(FailureClass.DegradedVersion, d => d with { DegradedVersion = "v2", HealthyVersions = ["v1"] }));
        await RunAsync("saturation.yaml", "shop", "api", FixedDiagnoser.Of(FailureClass.Saturation));
        Assert.Contains(recorded, r => r.IsMutating);
        var used = recorded.Select(r => (Group: r.Group ?? "", r.Resource, Verb: r.Verb)).Distinct().ToList();
        foreach (var (group, resource, verb) in used)
        {
            Assert.True(rules.Any(rule => rule.Group == group && rule.Resource == resource && rule.Verbs.Contains(verb)),
                $"the product called {verb} {group}/{resource}, which the RBAC manifest does not grant");
        }
        Assert.Contains(used, u => u.Resource == "deployments" && u.Verb == "patch");
        Assert.Contains(used, u => u.Resource == "virtualservices" && u.Verb == "patch");
        Assert.Contains(used, u => u.Resource == "horizontalpodautoscalers" && u.Verb == "patch");
    }
}
