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

    [Theory]
    [InlineData("traffic-shift", "weight: \"150\"", "rule 'r': parameter 'weight' must be an integer from 0 to 99 (the weight the degraded version keeps), not '150'")]
    [InlineData("traffic-shift", "weight: half", "rule 'r': parameter 'weight' must be an integer from 0 to 99 (the weight the degraded version keeps), not 'half'")]
    [InlineData("scale-out", "step: \"0\"", "rule 'r': parameter 'step' must be a positive integer (replicas added per action), not '0'")]
    [InlineData("scale-out", "max: many", "rule 'r': parameter 'max' must be a positive integer (replicas never exceeded; limits.maxReplicas caps it), not 'many'")]
    [InlineData("restart", "smallestStep: perhaps", "rule 'r': parameter 'smallestStep' must be true or false, not 'perhaps'")]
    [InlineData("traffic-shift", "wieght: \"0\"", "rule 'r': unknown parameter 'wieght' for action 'traffic-shift' (expected: weight)")]
    [InlineData("rollback", "weight: \"0\"", "rule 'r': action 'rollback' takes no parameters, not 'weight'")]
    public void Parameters_plan_would_refuse_are_refused_with_their_line(string action, string parameter, string expected)
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse($"""
            allow:
              namespaces: [shop]
            rules:
              - name: r
                action: {action}
                params:
                  {parameter}
            """));
        Assert.Equal($"policy:7: {expected}", Assert.Single(ex.Errors));
    }

    [Fact]
    public void Parameters_are_read_by_the_actions_through_the_same_check()
    {
        var parameters = new Dictionary<string, string> { ["weight"] = "150" };
        var problem = Assert.Single(ActionParameters.Problems(ActionNames.TrafficShift, parameters));
        var ex = Assert.Throws<Remediation.Policy.ActionNotApplicableException>(() => ActionParameters.Int(ActionNames.TrafficShift, parameters, "weight", 0));
        Assert.Equal(problem.Message, ex.Message);
        Assert.Equal(25, ActionParameters.Int(ActionNames.TrafficShift, new Dictionary<string, string> { ["weight"] = "25" }, "weight", 0));
        Assert.Equal(0, ActionParameters.Int(ActionNames.TrafficShift, new Dictionary<string, string>(), "weight", 0));
        Assert.False(ActionParameters.Bool(ActionNames.Restart, new Dictionary<string, string> { ["smallestStep"] = "false" }, "smallestStep", true));
        Assert.Empty(ActionParameters.Problems(ActionNames.ScaleOut, new Dictionary<string, string> { ["step"] = "2", ["max"] = "8" }));
        // The shipped policies pass.
        PolicyLoader.LoadFile(Path.Combine(Remediation.Tests.Fixtures.RepoPaths.Root, "examples", "policy.yaml"));
        PolicyLoader.LoadFile(Path.Combine(Remediation.Tests.Fixtures.RepoPaths.Root, "functions", "Remediation.Functions", "policy.yaml"));
    }

    [Fact]
    public void Invalid_label_regex_is_refused_with_its_line()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("""
            rules:
              - name: r
                when:
                  labels: { alertname: "=~Istio(.*" }
                action: escalate
            """));
        Assert.StartsWith("policy:4: label matcher 'alertname' is not a valid regular expression:", Assert.Single(ex.Errors), StringComparison.Ordinal);
    }

    [Fact]
    public void A_tab_in_the_indentation_is_reported_on_its_own_line()
    {
        var text = "dryRun: false\nallow:\n  namespaces: [shop]\nlimits:\n  cooldown: 10m\nrules:\n  - name: r\n\taction: rollback\n";
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse(text));
        var error = Assert.Single(ex.Errors);
        Assert.True(error.StartsWith("policy:8: YAML syntax error", StringComparison.Ordinal), error);
    }
}
