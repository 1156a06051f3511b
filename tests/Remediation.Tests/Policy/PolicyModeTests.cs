using Remediation.Policy;

namespace Remediation.Tests.Policy;

/// <summary>The trust ladder in the policy file: modes and approval settings read per level, checked with file:line.</summary>
public sealed class PolicyModeTests
{
    [Fact]
    public void Modes_and_approvals_are_read_globally_per_namespace_and_per_rule()
    {
        var policy = PolicyLoader.Parse("""
            mode: dry-run
            approval:
              deadline: 2h
              approvers: [oncall@contoso.com]
            namespaces:
              shop:
                mode: approve
                approval: { approvers: ["group:shop-sre"] }
            allow:
              namespaces: [shop, web]
            rules:
              - name: restart
                when: { classes: [CrashLoop] }
                action: restart
                mode: auto
              - name: rollback
                when: { classes: [BadRollout] }
                action: rollback
            """, "p.yaml");

        Assert.Equal(RemediationMode.Auto, policy.Approval.Resolve("restart", "shop").Mode);
        var shop = policy.Approval.Resolve("rollback", "shop");
        Assert.Equal((RemediationMode.Approve, TimeSpan.FromHours(2), "namespaces.shop.mode"), (shop.Mode, shop.Deadline, shop.ModeFrom));
        Assert.True(shop.Approvers.IsAllowed("carol", ["shop-sre"]));
        Assert.False(shop.Approvers.IsAllowed("oncall@contoso.com", []));
        Assert.Equal(RemediationMode.DryRun, policy.Approval.Resolve("rollback", "web").Mode);
    }

    [Fact]
    public void The_older_dry_run_flag_means_mode_dry_run_and_contradicting_it_is_an_error()
    {
        Assert.Equal(RemediationMode.DryRun, PolicyLoader.Parse("dryRun: true\nallow: { namespaces: [shop] }\n").Approval.Resolve(null, "shop").Mode);
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("dryRun: true\nmode: auto\n", "p.yaml"));
        Assert.Equal(["p.yaml:2: mode: 'auto' contradicts dryRun: true at the same level; remove dryRun or write mode: dry-run"], ex.Errors);
    }

    [Fact]
    public void Validation_errors_name_the_file_line_and_path()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("""
            allow:
              namespaces: [shop]
            rules:
              - name: restart
                when: { classes: [CrashLoop] }
                action: restart
                mode: approve
                approval:
                  deadline: 200h
                  approvers: ["*@contoso.com"]
              - name: rollback
                action: rollback
                mode: sometimes
            """, "p.yaml"));

        Assert.Equal(
        [
            "p.yaml:13: rules[1].mode: must be dry-run, approve or auto, not 'sometimes'",
            "p.yaml:9: rules[0].approval.deadline: must be more than 0s and at most 168h (7 days), not 200h",
            "p.yaml:10: rules[0].approval.approvers[0]: '*@contoso.com' contains a wildcard; approvers are matched exactly (case-insensitive), list each identity or use a group: entry",
        ], ex.Errors);
    }

    [Fact]
    public void A_rule_in_approve_mode_without_approvers_anywhere_is_refused_at_its_line()
    {
        var ex = Assert.Throws<PolicyValidationException>(() => PolicyLoader.Parse("""
            allow:
              namespaces: [shop]
            rules:
              - name: restart
                action: restart
                mode: approve
            """, "p.yaml"));

        Assert.Equal(["p.yaml:4: rules[0].approval.approvers: rule 'restart' is in approve mode but no approver is listed for it, for its namespace (namespace 'shop') or globally"], ex.Errors);
    }
}
