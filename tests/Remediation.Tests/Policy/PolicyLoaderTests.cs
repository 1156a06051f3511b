using Remediation.Diagnosis;
using Remediation.Policy;

namespace Remediation.Tests.Policy;

public sealed class PolicyLoaderTests
{
    [Fact]
    public void Valid_policy_loads_rules_limits_and_allowlist()
    {
        var policy = PolicyLoader.Parse("""
            dryRun: true
            allow:
              namespaces: [shop, payments]
              workloads: ["shop/*", "payments/api"]
            limits:
              cooldown: 15m
              window: 2h
              maxActionsPerWindow: 2
              breakerFailures: 2
              maxReplicas: 12
            rules:
              - name: rollback
                when:
                  classes: [BadRollout]
                  severity: critical
                action: rollback
              - name: shift
                when:
                  classes: [DegradedVersion]
                  labels: { alertname: "=~Istio.*" }
                action: traffic-shift
                params: { weight: "0" }
            """);
        Assert.True(policy.DryRun);
        Assert.Equal(TimeSpan.FromMinutes(15), policy.Limits.Cooldown);
        Assert.Equal(12, policy.Limits.MaxReplicas);
        Assert.Equal(2, policy.Rules.Count);
        Assert.Equal(17, policy.Rules[1].Line);
        Assert.Null(policy.RefusalFor("shop", "checkout"));
        Assert.Null(policy.RefusalFor("payments", "api"));
        Assert.Contains("matches no allowlisted workload", policy.RefusalFor("payments", "db"), StringComparison.Ordinal);
        Assert.Contains("not in the policy allowlist", policy.RefusalFor("default", "x"), StringComparison.Ordinal);
        Assert.Contains("protected", policy.RefusalFor("kube-system", "coredns"), StringComparison.Ordinal);
        var labels = new Dictionary<string, string> { ["alertname"] = "IstioHigh5xxErrorRate" };
        Assert.Equal("shift", policy.Match(labels, FailureClass.DegradedVersion)?.Name);
        Assert.Null(policy.Match(labels, FailureClass.BadRollout));
        Assert.Equal("rollback", policy.Match(new Dictionary<string, string> { ["severity"] = "critical" }, FailureClass.BadRollout)?.Name);
    }

    [Fact]
    public void Errors_name_their_line()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("""
            allow:
              namespaces: [shop, kube-system]
            limits:
              cooldown: soon
              maxActionsPerWindow: 0
            rules:
              - name: a
                when:
                  classes: [Broken]
                action: reboot
              - action: restart
                colour: blue
            """, "policy.yaml"));
        Assert.Contains("policy.yaml:2: allow.namespaces lists protected namespace 'kube-system', which is never remediated", ex.Errors);
        Assert.Contains(ex.Errors, e => e.StartsWith("policy.yaml:4: 'cooldown' must be a duration", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("policy.yaml:5: 'maxActionsPerWindow' must be an integer", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("policy.yaml:9: unknown diagnosis class 'Broken'", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("policy.yaml:10: unknown action 'reboot'", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("policy.yaml:11: rule is missing 'name'", StringComparison.Ordinal));
        Assert.Contains(ex.Errors, e => e.StartsWith("policy.yaml:12: unknown key 'colour'", StringComparison.Ordinal));
    }

    [Fact]
    public void Yaml_syntax_error_names_the_line()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("allow:\n  namespaces: [shop\nrules: []\n", "p.yaml"));
        Assert.StartsWith("p.yaml:2:", ex.Errors[0], StringComparison.Ordinal);
        Assert.Contains("YAML syntax error", ex.Errors[0], StringComparison.Ordinal);
    }

    [Fact]
    public void No_policy_means_deny_all()
    {
        Assert.Contains("not in the policy allowlist", RemediationPolicy.DenyAll.RefusalFor("shop", "checkout"), StringComparison.Ordinal);
    }

    [Fact]
    public void Unmapped_alerts_default_to_ignore_and_can_be_escalated()
    {
        Assert.Equal(UnmappedAlerts.Ignore, PolicyLoader.Parse("allow:\n  namespaces: [shop]\n").UnmappedAlerts);
        Assert.Equal(UnmappedAlerts.Ignore, PolicyLoader.Parse("unmappedAlerts: ignore\n").UnmappedAlerts);
        Assert.Equal(UnmappedAlerts.Escalate, PolicyLoader.Parse("unmappedAlerts: escalate\n").UnmappedAlerts);
        Assert.Equal(UnmappedAlerts.Ignore, RemediationPolicy.DenyAll.UnmappedAlerts);
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("dryRun: false\nunmappedAlerts: page\n"));
        Assert.Equal("policy:2: 'unmappedAlerts' must be ignore or escalate, not 'page'", Assert.Single(ex.Errors));
    }
}
