using System.Text.RegularExpressions;
using CsCheck;
using Remediation.Alerts;
using Remediation.Policy;
using Remediation.Storage;

namespace Remediation.Tests.Alerts;

/// <summary>
/// Seeded properties over 100,000 label sets drawn from adversarial names mixed with valid ones: the resolver proves
/// what it returns, never falls through past an invalid higher-precedence label, and storage keys built from any of
/// these strings are valid, bounded and distinct.
/// </summary>
public sealed partial class TargetPropertyTests
{
    private const int Iterations = 100_000;

    /// <summary>Name labels in the resolver's precedence order (exported_X before X).</summary>
    private static readonly string[] NameLabels =
    [
        "exported_deployment", "deployment", "exported_statefulset", "statefulset", "exported_daemonset", "daemonset",
        "exported_job_name", "job_name", "exported_cronjob", "cronjob", "exported_replicaset", "replicaset",
        "exported_horizontalpodautoscaler", "horizontalpodautoscaler", "destination_workload", "exported_workload", "workload",
        "controller", "exported_pod", "pod", "exported_app_kubernetes_io_name", "app_kubernetes_io_name", "exported_app", "app",
    ];

    private static readonly string[] OtherLabels =
    [
        "namespace", "exported_namespace", "destination_workload_namespace", "kubernetes_namespace", "workload_type",
        "exported_workload_type", "controller_kind", "job", "container", "service", "alertname",
    ];

    internal static IReadOnlyList<string> ValidNames => Valid;

    private static readonly string[] Valid =
    [
        "shop", "checkout", "dd1", "dd1-0", "a", "0", "kube-system", "checkout-7d9c6b5f4-x2x9k", "ka-28391234-x2x9k",
        "web.v2", "a.b.c", "kube-state-metrics", "kube-state-metrics-6d4f8b9c7-abcde", "node-exporter", "prometheus-node-exporter-x7k2p",
        new string('a', 63), new string('b', 253), string.Join('.', Enumerable.Repeat(new string('c', 63), 4))[..253],
    ];

    private static readonly string[] Adversarial =
    [
        "", " ", "?", "#", "/", "%", "&", ";", "=", "+", "..", ".", "%2F", "%2f", "%25", "..%2F", "../kube-system", "a/b", "a\\b",
        "sh\u043Ep", "\uFF53\uFF48\uFF4F\uFF50", "Shop", "CHECKOUT", " shop", "shop ", "shop\n", "shop\r\nx: 1", "\t", "\0", "shop\0",
        "\a", "\u202Eshop", "\u200Bshop", "\u0085", "\u009F", "\u007F", "\uD800", "\uDC00x", "\uD83D\uDE00", "-shop", "shop-", "a..b",
        "a_b", "a.-b", "é", "unknown", "|", "target|x", "%~", "%u0041",
        new string('a', 64), new string('b', 254), new string('%', 300), new string('/', 700), new string('\u00e9', 900),
        string.Concat(Enumerable.Repeat("\uD83D\uDE00", 600)),
    ];

    private static readonly Gen<string> Fragment = Gen.Frequency(
        (3, Gen.OneOfConst(Valid)),
        (3, Gen.OneOfConst(Adversarial)),
        (1, Gen.String[Gen.Char["abc-./%?#\u043E\n\0 A"], 0, 12]));

    private static readonly Gen<string> Value =
        Gen.Frequency(
            (8, Gen.OneOfConst(Valid)),
            (4, Fragment),
            (2, from a in Fragment from b in Fragment select a + b),
            (1, from a in Fragment from b in Fragment from c in Fragment select a + "-" + b + "." + c));

    private static readonly Gen<string> TypeValue = Gen.Frequency(
        (4, Gen.OneOfConst("deployment", "statefulset", "daemonset", "job", "cronjob", "replicaset", "StatefulSet", "Deployment", "ReplicaSet")),
        (1, Value));

    internal static readonly Gen<Dictionary<string, string>> LabelSets =
        from names in Gen.Int[0, NameLabels.Length - 1].Array[0, 4]
        from values in Value.Array[4]
        from others in Gen.Int[0, OtherLabels.Length - 1].Array[0, 5]
        from otherValues in Value.Array[5]
        from typeValue in TypeValue
        from exporterPod in Gen.Bool
        select Build(names, values, others, otherValues, typeValue, exporterPod);

    private static Dictionary<string, string> Build(int[] names, string[] values, int[] others, string[] otherValues, string typeValue, bool exporterPod)
    {
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        for (var i = 0; i < others.Length; i++)
        {
            var name = OtherLabels[others[i]];
            labels[name] = name is "workload_type" or "exported_workload_type" or "controller_kind" ? typeValue : otherValues[i];
        }
        for (var i = 0; i < names.Length; i++)
        {
            labels[NameLabels[names[i]]] = values[i];
        }
        if (exporterPod && labels.ContainsKey("pod"))
        {
            labels["job"] = "kube-state-metrics";
        }
        return labels;
    }

    [Fact]
    public void Object_names_follow_kubernetes_subdomain_rule_and_namespaces_its_label_rule()
    {
        // Kubernetes limits a subdomain to 253 characters in all, not each part to 63 (apimachinery IsDNS1123Subdomain):
        // a Deployment named with 68 characters exists and was escalated as invalid. Namespaces are labels (63).
        Assert.True(KubernetesNames.IsSubdomain(new string('a', 68)));
        Assert.True(KubernetesNames.IsSubdomain(new string('a', 68) + "." + new string('b', 100)));
        Assert.True(KubernetesNames.IsSubdomain(new string('a', 253)));
        Assert.False(KubernetesNames.IsSubdomain(new string('a', 254)));
        Assert.False(KubernetesNames.IsSubdomain("a..b"));
        Assert.False(KubernetesNames.IsSubdomain(new string('a', 68) + "-"));
        Assert.True(KubernetesNames.IsLabel(new string('a', 63)));
        Assert.False(KubernetesNames.IsLabel(new string('a', 64)));
        var (target, problem) = TargetResolver.Resolve(new Dictionary<string, string> { ["namespace"] = "shop", ["deployment"] = new string('a', 68) });
        Assert.Null(problem);
        Assert.Equal(new string('a', 68), target!.Name);
    }

    [Fact]
    public void Resolver_returns_valid_names_or_a_problem_naming_a_label_and_never_falls_through()
    {
        var pcg = new PCG(7, 20261126);
        int targets = 0, problems = 0, invalidFirst = 0;
        for (var i = 0; i < Iterations; i++)
        {
            var labels = LabelSets.Generate(pcg, null, out _);
            var (target, problem) = TargetResolver.Resolve(labels);
            var context = Describe(labels);
            if (target is not null)
            {
                targets++;
                Assert.Null(problem);
                Assert.True(KubernetesNames.IsLabel(target.Namespace), $"namespace {KubernetesNames.Quote(target.Namespace)} from {context}");
                Assert.True(KubernetesNames.IsSubdomain(target.Name), $"name {KubernetesNames.Quote(target.Name)} from {context}");
                Assert.Contains(target.Kind, (string[])[.. WorkloadKinds.Workloads, WorkloadKinds.ReplicaSet, WorkloadKinds.HorizontalPodAutoscaler]);
            }
            else
            {
                problems++;
                Assert.NotNull(problem);
                Assert.True(LabelInQuotes().IsMatch(problem), $"problem names no label: {problem}");
                Assert.DoesNotContain('\n', problem);
                Assert.DoesNotContain('\0', problem);
            }

            // The highest-precedence name label present decides: invalid, it yields no target (from any label);
            // valid, a target bears its value (a pod label may be set aside as the exporter's or the scrape target's).
            var first = NameLabels.FirstOrDefault(l => labels.TryGetValue(l, out var v) && v.Length > 0
                && (l != "controller" || labels.TryGetValue("controller_kind", out var k) && k.Length > 0));
            if (first is not null && !KubernetesNames.IsSubdomain(labels[first]))
            {
                invalidFirst++;
                Assert.True(target is null, $"'{first}' is invalid but {target} was targeted from {context}");
            }
            if (target is not null && first is not null && first != "pod")
            {
                Assert.True(labels[first] == target.Name, $"'{first}' decides but {target} was targeted from {context}");
            }
            // The same for the namespace: the object's namespace label, when present and invalid, yields no target.
            var nsLabel = first == "destination_workload"
                ? "destination_workload_namespace"
                : TargetResolver.NamespaceLabels.FirstOrDefault(l => labels.TryGetValue(l, out var v) && v.Length > 0);
            if (nsLabel is not null && target is not null)
            {
                Assert.True(labels[nsLabel] == target.Namespace, $"namespace from '{nsLabel}' expected, got {target} from {context}");
            }
        }
        Assert.True(targets > Iterations / 20, $"only {targets} targets");
        Assert.True(problems > Iterations / 20, $"only {problems} problems");
        Assert.True(invalidFirst > Iterations / 20, $"only {invalidFirst} sets with an invalid deciding label");
    }

    [Fact]
    public void Storage_keys_are_valid_bounded_and_distinct_for_any_string()
    {
        var pcg = new PCG(11, 20261126);
        var escaped = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new Dictionary<string, WorkloadTarget>(StringComparer.Ordinal);
        var kinds = (string[])[.. WorkloadKinds.Workloads, WorkloadKinds.ReplicaSet, WorkloadKinds.HorizontalPodAutoscaler];
        for (var i = 0; i < Iterations; i++)
        {
            var value = Value.Generate(pcg, null, out _);
            var other = Value.Generate(pcg, null, out _);
            var kind = kinds[i % kinds.Length];
            foreach (var input in (string[])[value, other])
            {
                var key = StorageKeys.Escape(input);
                AssertValidKey(key, input);
                if (escaped.TryGetValue(key, out var previous))
                {
                    Assert.True(previous == input, $"{KubernetesNames.Quote(previous)} and {KubernetesNames.Quote(input)} both escape to {KubernetesNames.Quote(key)}");
                }
                escaped[key] = input;
                if (KubernetesNames.IsSubdomain(input))
                {
                    Assert.Equal(input, key);
                }
            }
            var target = new WorkloadTarget(value, other, kind);
            var partition = TargetLedgerRecord.KeyFor(target);
            AssertValidKey(partition, target.ToString());
            if (keys.TryGetValue(partition, out var seen))
            {
                Assert.True(seen == target, $"{seen.Describe()} and {target.Describe()} share the key {KubernetesNames.Quote(partition)}");
            }
            keys[partition] = target;
        }
        Assert.True(escaped.Count > Iterations / 10, $"only {escaped.Count} distinct inputs");
        Assert.Contains(escaped.Keys, k => k.Contains("%~", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("checkout", "checkout")]
    [InlineData("a/b", "a%2Fb")]
    [InlineData("a%2Fb", "a%252Fb")]
    [InlineData("x|y", "x%7Cy")]
    [InlineData("#?\\", "%23%3F%5C")]
    [InlineData("\u0000\u001f\u007f\u009f", "%00%1F%7F%C2%9F")]
    [InlineData("\uD83D\uDE00", "\uD83D\uDE00")]
    public void Escape_examples(string input, string expected) => Assert.Equal(expected, StorageKeys.Escape(input));

    [Fact]
    public void Lone_surrogates_are_escaped()
    {
        Assert.Equal("%uD800", StorageKeys.Escape("\uD800"));
        Assert.Equal("x%uDC00", StorageKeys.Escape("x\uDC00"));
        Assert.NotEqual(StorageKeys.Escape("\uD800"), StorageKeys.Escape("\uFFFD"));
    }

    [Fact]
    public void Deployment_keys_are_unchanged_and_other_kinds_carry_their_kind()
    {
        Assert.Equal("target|shop|checkout", TargetLedgerRecord.KeyFor(new WorkloadTarget("shop", "checkout")));
        Assert.Equal("target|data|dd1|StatefulSet", TargetLedgerRecord.KeyFor(new WorkloadTarget("data", "dd1", WorkloadKinds.StatefulSet)));
        Assert.Equal("target|x%2F..|a%7Cb", TargetLedgerRecord.KeyFor(new WorkloadTarget("x/..", "a|b")));
        var longest = TargetLedgerRecord.KeyFor(new WorkloadTarget(new string('a', 63), new string('b', 253), WorkloadKinds.HorizontalPodAutoscaler));
        Assert.DoesNotContain("%~", longest, StringComparison.Ordinal);
    }

    private static void AssertValidKey(string key, string input)
    {
        Assert.False(key.Any(StorageKeys.IsForbidden), $"key for {KubernetesNames.Quote(input)} has a forbidden character: {KubernetesNames.Quote(key)}");
        Assert.True(StorageKeys.SizeOf(key) <= StorageKeys.MaxKeyBytes, $"key for {KubernetesNames.Quote(input)} is {StorageKeys.SizeOf(key)} bytes");
        for (var i = 0; i < key.Length; i++)
        {
            Assert.False(char.IsHighSurrogate(key[i]) && (i + 1 == key.Length || !char.IsLowSurrogate(key[i + 1])), $"lone surrogate in key for {KubernetesNames.Quote(input)}");
            Assert.False(char.IsLowSurrogate(key[i]) && (i == 0 || !char.IsHighSurrogate(key[i - 1])), $"lone surrogate in key for {KubernetesNames.Quote(input)}");
        }
    }

    private static string Describe(Dictionary<string, string> labels) =>
        "{" + string.Join(", ", labels.OrderBy(l => l.Key, StringComparer.Ordinal).Select(l => $"{l.Key}={KubernetesNames.Quote(l.Value)}")) + "}";

    [GeneratedRegex("'[a-z_]+'")]
    private static partial Regex LabelInQuotes();
}
