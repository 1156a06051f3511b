using Remediation.Approvals;
using Remediation.Policy;

namespace Remediation.Tests.Approvals;

public sealed class ApprovalPolicyTests
{
    private static readonly ApprovalPolicy Ladder = new()
    {
        Global = new ModeSetting { Mode = RemediationMode.DryRun, Approval = new ApprovalSettings { Approvers = ["oncall@contoso.com"] } },
        Namespaces = new Dictionary<string, ModeSetting>
        {
            ["shop"] = new() { Mode = RemediationMode.Approve, Approval = new ApprovalSettings { Deadline = TimeSpan.FromMinutes(30), Approvers = ["group:shop-sre"] } },
        },
        Rules =
        [
            new RuleModeSetting(0, "rollback-bad-rollouts", new ModeSetting { Mode = RemediationMode.Auto }),
            new RuleModeSetting(1, "scale-out", new ModeSetting { Mode = RemediationMode.Approve, Approval = new ApprovalSettings { Deadline = TimeSpan.FromHours(2) } }),
        ],
    };

    [Theory]
    [InlineData("rollback-bad-rollouts", "shop", RemediationMode.Auto, "rules[0].mode")]
    [InlineData("restart", "shop", RemediationMode.Approve, "namespaces.shop.mode")]
    [InlineData(null, "payments", RemediationMode.DryRun, "mode")]
    [InlineData("scale-out", "payments", RemediationMode.Approve, "rules[1].mode")]
    public void The_most_specific_level_sets_the_mode_rule_then_namespace_then_global(string? rule, string ns, RemediationMode mode, string from)
    {
        var resolved = Ladder.Resolve(rule, ns);
        Assert.Equal((mode, from), (resolved.Mode, resolved.ModeFrom));
    }

    [Fact]
    public void Deadline_and_approvers_are_inherited_each_on_its_own()
    {
        var inShop = Ladder.Resolve("scale-out", "shop");
        Assert.Equal(TimeSpan.FromHours(2), inShop.Deadline);
        Assert.True(inShop.Approvers.IsAllowed("bob", ["shop-sre"]));
        Assert.False(inShop.Approvers.IsAllowed("oncall@contoso.com", []));

        var elsewhere = Ladder.Resolve("scale-out", "payments");
        Assert.True(elsewhere.Approvers.IsAllowed("oncall@contoso.com", []));
        Assert.Equal(TimeSpan.FromMinutes(30), Ladder.Resolve(null, "shop").Deadline);
        Assert.Equal(ApprovalSettings.DefaultDeadline, Ladder.Resolve(null, "payments").Deadline);

        var empty = new ApprovalPolicy().Resolve("any", "shop");
        Assert.Equal((RemediationMode.Auto, "default"), (empty.Mode, empty.ModeFrom));
        Assert.True(empty.Approvers.IsEmpty);
    }

    [Theory]
    [InlineData("alice@contoso.com", true)]
    [InlineData("ALICE@Contoso.com", true)]
    [InlineData("alice", false)]
    [InlineData("alice@contoso.com.evil.example", false)]
    [InlineData("xalice@contoso.com", false)]
    [InlineData(" alice@contoso.com", false)]
    [InlineData("ops", false)]
    [InlineData("group:ops", false)]
    [InlineData("", false)]
    [InlineData(null, false)]
    public void Identities_match_exactly_ignoring_case_and_never_by_substring_or_as_a_group(string? principal, bool allowed)
    {
        var check = new ApproverCheck(["alice@contoso.com", "group:ops"]);
        Assert.Equal(allowed, check.IsAllowed(principal, []));
    }

    [Fact]
    public void Groups_match_exactly_ignoring_case_and_only_for_a_named_principal()
    {
        var check = new ApproverCheck(["Group:Platform-SRE", "carol"]);
        Assert.True(check.IsAllowed("dave", ["readers", "platform-sre"]));
        Assert.False(check.IsAllowed("dave", ["platform-sre-readonly", "platform", "carol"]));
        Assert.False(check.IsAllowed("", ["platform-sre"]));
        Assert.False(check.IsAllowed("dave", null));
        Assert.False(new ApproverCheck(["*", "group:*"]).IsAllowed("anyone", ["admins"]));
        Assert.False(new ApproverCheck(["*@contoso.com"]).IsAllowed("alice@contoso.com", []));
    }

    [Fact]
    public void Validation_names_the_path_of_each_bad_value()
    {
        var policy = new ApprovalPolicy
        {
            Global = new ModeSetting { Mode = RemediationMode.Approve },
            Namespaces = new Dictionary<string, ModeSetting>
            {
                ["shop"] = new() { Approval = new ApprovalSettings { Deadline = TimeSpan.FromDays(8), Approvers = [] } },
                ["web"] = new() { Mode = RemediationMode.Auto },
            },
            Rules =
            [
                new RuleModeSetting(0, "restart", new ModeSetting { Mode = RemediationMode.Auto }),
                new RuleModeSetting(1, "rollback", new ModeSetting { Mode = RemediationMode.DryRun }),
                new RuleModeSetting(2, "scale-out", new ModeSetting { Mode = RemediationMode.Approve, Approval = new ApprovalSettings { Deadline = TimeSpan.Zero, Approvers = ["*@contoso.com", "group:", " bob"] } }),
                new RuleModeSetting(3, "traffic", new ModeSetting { Mode = RemediationMode.Approve }),
            ],
        };
        Assert.Equal(
        [
            "approval.approvers: mode is approve but no approver is listed; list identities or group: entries",
            "namespaces.shop.approval.deadline: must be more than 0s and at most 168h (7 days), not 192h",
            "namespaces.shop.approval.approvers: an empty list lets nobody approve; list identities or group: entries, or leave the key out to inherit",
            "rules[2].approval.deadline: must be more than 0s and at most 168h (7 days), not 0s",
            "rules[2].approval.approvers[0]: '*@contoso.com' contains a wildcard; approvers are matched exactly (case-insensitive), list each identity or use a group: entry",
            "rules[2].approval.approvers[1]: 'group:' must be followed by a group name",
            "rules[2].approval.approvers[2]: ' bob' has surrounding spaces or control characters; approvers are matched exactly",
            "rules[3].approval.approvers: rule 'traffic' is in approve mode but no approver is listed for it, for its namespace (namespace 'web') or globally",
        ], ApprovalPolicyValidator.Validate(policy, ["shop", "web"]));
    }

    [Fact]
    public void A_valid_ladder_has_no_errors_and_negative_deadlines_are_named_in_policy_notation()
    {
        Assert.Empty(ApprovalPolicyValidator.Validate(Ladder, ["shop", "payments"]));
        var negative = new ApprovalPolicy { Global = new ModeSetting { Approval = new ApprovalSettings { Deadline = TimeSpan.FromMinutes(-90), Approvers = ["a"] } } };
        Assert.Equal(["approval.deadline: must be more than 0s and at most 168h (7 days), not -1h30m"], ApprovalPolicyValidator.Validate(negative, []));
        var exactlySeven = negative with { Global = new ModeSetting { Approval = new ApprovalSettings { Deadline = ApprovalSettings.MaxDeadline, Approvers = ["a"] } } };
        Assert.Empty(ApprovalPolicyValidator.Validate(exactlySeven, []));
    }

    [Theory]
    [InlineData("dry-run", RemediationMode.DryRun)]
    [InlineData("approve", RemediationMode.Approve)]
    [InlineData("auto", RemediationMode.Auto)]
    public void Mode_names_round_trip(string name, RemediationMode mode)
    {
        Assert.Equal(mode, RemediationModes.Parse(name));
        Assert.Equal(name, RemediationModes.Name(mode));
        Assert.Null(RemediationModes.Parse(name.ToUpperInvariant()));
    }
}
