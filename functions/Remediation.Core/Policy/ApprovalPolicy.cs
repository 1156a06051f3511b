namespace Remediation.Policy;

/// <summary>The trust ladder: watch, then approve each action, then let the product act alone.</summary>
public enum RemediationMode
{
    /// <summary>Plan and record, never write (dryRun=All).</summary>
    DryRun,
    /// <summary>Plan, record, and wait for a listed approver before writing exactly the recorded plan.</summary>
    Approve,
    /// <summary>Plan and write (the product's behaviour without approval).</summary>
    Auto,
}

/// <summary>Mode names as written in the policy file.</summary>
public static class RemediationModes
{
    public static string Name(RemediationMode mode) => mode switch
    {
        RemediationMode.DryRun => "dry-run",
        RemediationMode.Approve => "approve",
        _ => "auto",
    };

    public static RemediationMode? Parse(string? text) => text switch
    {
        "dry-run" => RemediationMode.DryRun,
        "approve" => RemediationMode.Approve,
        "auto" => RemediationMode.Auto,
        _ => null,
    };
}

/// <summary>Approval settings of one level; a null member is inherited from the broader level.</summary>
public sealed record ApprovalSettings
{
    public static readonly TimeSpan DefaultDeadline = TimeSpan.FromHours(1);
    public static readonly TimeSpan MaxDeadline = TimeSpan.FromDays(7);

    /// <summary>How long an approval request waits before the incident is Escalated; more than 0, at most 7 days.</summary>
    public TimeSpan? Deadline { get; init; }
    /// <summary>Identities and <c>group:</c> entries (see <see cref="ApproverCheck"/>).</summary>
    public IReadOnlyList<string>? Approvers { get; init; }
}

/// <summary>The mode and approval settings of one level (global, a namespace, a rule); null members are inherited.</summary>
public sealed record ModeSetting
{
    public RemediationMode? Mode { get; init; }
    public ApprovalSettings? Approval { get; init; }
}

/// <summary>The mode settings of the rule at <paramref name="Index"/> of the policy's rules (the path in messages).</summary>
public sealed record RuleModeSetting(int Index, string Rule, ModeSetting Setting);

/// <summary>What applies to one decision: the mode, where it was set (a policy path), the deadline and who may approve.</summary>
public sealed record ResolvedMode(RemediationMode Mode, string ModeFrom, TimeSpan Deadline, ApproverCheck Approvers);

/// <summary>
/// Modes per rule, per namespace and globally; the most specific wins: rule > namespace > global (> auto). The deadline
/// and the approvers are resolved the same way, each on its own. Policy paths: <c>mode</c>/<c>approval</c> at the top,
/// <c>namespaces.NS.mode</c>, <c>rules[i].mode</c>.
/// </summary>
public sealed record ApprovalPolicy
{
    public const string NamespacesKey = "namespaces";

    public ModeSetting Global { get; init; } = new();
    public IReadOnlyDictionary<string, ModeSetting> Namespaces { get; init; } = new Dictionary<string, ModeSetting>(StringComparer.Ordinal);
    public IReadOnlyList<RuleModeSetting> Rules { get; init; } = [];

    /// <summary>The settings for a decision by the rule named <paramref name="rule"/> (null: no rule) in <paramref name="namespace"/>.</summary>
    public ResolvedMode Resolve(string? rule, string @namespace)
    {
        var levels = Levels(rule, @namespace);
        var (mode, from) = levels.Where(l => l.Setting.Mode is not null).Select(l => (l.Setting.Mode!.Value, $"{l.Path}mode")).FirstOrDefault((RemediationMode.Auto, "default"));
        var deadline = levels.Select(l => l.Setting.Approval?.Deadline).FirstOrDefault(d => d is not null) ?? ApprovalSettings.DefaultDeadline;
        var approvers = levels.Select(l => l.Setting.Approval?.Approvers).FirstOrDefault(a => a is not null);
        return new ResolvedMode(mode, from, deadline, approvers is null ? ApproverCheck.Nobody : new ApproverCheck(approvers));
    }

    /// <summary>The levels that apply, most specific first, with their path prefix ("rules[2].", "namespaces.shop.", "").</summary>
    private List<(string Path, ModeSetting Setting)> Levels(string? rule, string @namespace)
    {
        var levels = new List<(string, ModeSetting)>();
        if (rule is not null && Rules.FirstOrDefault(r => string.Equals(r.Rule, rule, StringComparison.Ordinal)) is { } r)
        {
            levels.Add((RulePath(r), r.Setting));
        }
        if (Namespaces.TryGetValue(@namespace, out var ns))
        {
            levels.Add((NamespacePath(@namespace), ns));
        }
        levels.Add(("", Global));
        return levels;
    }

    internal static string RulePath(RuleModeSetting rule) => $"rules[{rule.Index}].";

    internal static string NamespacePath(string @namespace) => $"{NamespacesKey}.{@namespace}.";
}
