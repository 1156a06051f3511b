using System.Globalization;

namespace Remediation.Policy;

/// <summary>
/// The <c>policy validate</c> errors of an <see cref="ApprovalPolicy"/>, each naming its policy path, e.g.
/// <c>rules[2].approval.deadline: must be more than 0s and at most 168h (7 days), not 0s</c>. The YAML loader prefixes the
/// file and line.
/// </summary>
public static class ApprovalPolicyValidator
{
    /// <param name="allowedNamespaces">The namespaces the policy allows: a rule in approve mode without its own approvers
    /// must find some in each of them (their namespace settings or the global ones).</param>
    public static IReadOnlyList<string> Validate(ApprovalPolicy policy, IReadOnlyCollection<string> allowedNamespaces)
    {
        ArgumentNullException.ThrowIfNull(policy);
        ArgumentNullException.ThrowIfNull(allowedNamespaces);
        var errors = new List<string>();
        var global = policy.Global.Approval?.Approvers;
        CheckLevel("", policy.Global, errors);
        if (policy.Global.Mode == RemediationMode.Approve && global is null)
        {
            errors.Add("approval.approvers: mode is approve but no approver is listed; list identities or group: entries");
        }
        foreach (var (ns, setting) in policy.Namespaces.OrderBy(n => n.Key, StringComparer.Ordinal))
        {
            var path = ApprovalPolicy.NamespacePath(ns);
            CheckLevel(path, setting, errors);
            if ((setting.Mode ?? policy.Global.Mode) == RemediationMode.Approve && (setting.Approval?.Approvers ?? global) is null)
            {
                errors.Add($"{path}approval.approvers: namespace '{ns}' is in approve mode but no approver is listed for it or globally");
            }
        }
        foreach (var rule in policy.Rules.OrderBy(r => r.Index))
        {
            var path = ApprovalPolicy.RulePath(rule);
            CheckLevel(path, rule.Setting, errors);
            if (rule.Setting.Mode != RemediationMode.Approve || rule.Setting.Approval?.Approvers is not null)
            {
                continue;
            }
            var without = allowedNamespaces.Order(StringComparer.Ordinal)
                .Where(ns => (policy.Namespaces.GetValueOrDefault(ns)?.Approval?.Approvers ?? global) is null).ToList();
            if (without.Count > 0 || (allowedNamespaces.Count == 0 && global is null))
            {
                var where = without.Count == 0 ? "" : $" (namespace{(without.Count == 1 ? "" : "s")} {string.Join(", ", without.Select(n => $"'{n}'"))})";
                errors.Add($"{path}approval.approvers: rule '{rule.Rule}' is in approve mode but no approver is listed for it, for its namespace{where} or globally");
            }
        }
        return errors;
    }

    private static void CheckLevel(string path, ModeSetting setting, List<string> errors)
    {
        if (setting.Mode is { } mode && !Enum.IsDefined(mode))
        {
            errors.Add($"{path}mode: must be dry-run, approve or auto");
        }
        if (setting.Approval is not { } approval)
        {
            return;
        }
        if (approval.Deadline is { } deadline && (deadline <= TimeSpan.Zero || deadline > ApprovalSettings.MaxDeadline))
        {
            errors.Add($"{path}approval.deadline: must be more than 0s and at most 168h (7 days), not {Duration(deadline)}");
        }
        if (approval.Approvers is not { } approvers)
        {
            return;
        }
        if (approvers.Count == 0)
        {
            errors.Add($"{path}approval.approvers: an empty list lets nobody approve; list identities or group: entries, or leave the key out to inherit");
        }
        for (var i = 0; i < approvers.Count; i++)
        {
            if (EntryProblem(approvers[i]) is { } problem)
            {
                errors.Add($"{path}approval.approvers[{i}]: {problem}");
            }
        }
    }

    private static string? EntryProblem(string? entry)
    {
        if (string.IsNullOrWhiteSpace(entry))
        {
            return "must not be empty";
        }
        if (entry.Trim().Length != entry.Length || entry.Any(char.IsControl))
        {
            return $"'{Text.DisplayText.Escape(entry)}' has surrounding spaces or control characters; approvers are matched exactly";
        }
        if (ApproverCheck.IsGroup(entry) && entry.Length == ApproverCheck.GroupPrefix.Length)
        {
            return "'group:' must be followed by a group name";
        }
        if (entry.IndexOfAny(['*', '?']) >= 0)
        {
            return $"'{entry}' contains a wildcard; approvers are matched exactly (case-insensitive), list each identity or use a group: entry";
        }
        return null;
    }

    /// <summary>"90m" as "1h30m", "200h", "0s", "-5m": the policy's duration notation.</summary>
    internal static string Duration(TimeSpan value)
    {
        var sign = value < TimeSpan.Zero ? "-" : "";
        var d = value.Duration();
        var text = string.Concat(
            d >= TimeSpan.FromHours(1) ? $"{((long)d.TotalHours).ToString(CultureInfo.InvariantCulture)}h" : "",
            d.Minutes > 0 ? $"{d.Minutes.ToString(CultureInfo.InvariantCulture)}m" : "",
            d.Seconds > 0 ? $"{d.Seconds.ToString(CultureInfo.InvariantCulture)}s" : "");
        return sign + (text.Length == 0 ? "0s" : text);
    }
}
