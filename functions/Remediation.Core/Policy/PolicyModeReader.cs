using YamlDotNet.RepresentationModel;

namespace Remediation.Policy;

/// <summary>
/// Reads the trust ladder of the policy file: <c>mode</c> and <c>approval</c> at the top, under <c>namespaces.NS</c> and
/// in each rule, into an <see cref="ApprovalPolicy"/>; then checks it with <see cref="ApprovalPolicyValidator"/> and
/// reports each problem as <c>file:line: path: message</c>. The older <c>dryRun: true</c> (global or per rule) means
/// <c>mode: dry-run</c>; written together with another mode it is refused as a contradiction.
/// </summary>
internal sealed class PolicyModeReader(PolicyNodeReader reader, string source, List<string> errors)
{
    public const string ModeKey = "mode";
    public const string ApprovalKey = "approval";

    /// <summary>Policy paths (<c>rules[2].approval.deadline</c>) and the line each was written on.</summary>
    private readonly Dictionary<string, long> _lines = new(StringComparer.Ordinal);

    public ApprovalPolicy Read(YamlMappingNode root, IReadOnlyCollection<string> allowedNamespaces)
    {
        ArgumentNullException.ThrowIfNull(root);
        var policy = new ApprovalPolicy
        {
            Global = Level(root, "", Flag(root, "dryRun")),
            Namespaces = ReadNamespaces(root),
            Rules = ReadRules(root),
        };
        foreach (var error in ApprovalPolicyValidator.Validate(policy, allowedNamespaces))
        {
            errors.Add($"{source}:{LineOf(error)}: {error}");
        }
        return policy;
    }

    private Dictionary<string, ModeSetting> ReadNamespaces(YamlMappingNode root)
    {
        var result = new Dictionary<string, ModeSetting>(StringComparer.Ordinal);
        if (reader.Mapping(root, ApprovalPolicy.NamespacesKey) is not { } namespaces)
        {
            return result;
        }
        foreach (var (key, value) in namespaces.Children)
        {
            if (key is not YamlScalarNode { Value: { Length: > 0 } ns } || value is not YamlMappingNode level)
            {
                reader.Error(value, $"'{ApprovalPolicy.NamespacesKey}' maps a namespace name to its 'mode' and 'approval'");
                continue;
            }
            reader.CheckKeys(level, ModeKey, ApprovalKey);
            result[ns] = Level(level, ApprovalPolicy.NamespacePath(ns), dryRun: false);
        }
        return result;
    }

    private List<RuleModeSetting> ReadRules(YamlMappingNode root)
    {
        var rules = new List<RuleModeSetting>();
        if (reader.Child(root, "rules") is not YamlSequenceNode sequence)
        {
            return rules;
        }
        for (var i = 0; i < sequence.Children.Count; i++)
        {
            if (sequence.Children[i] is YamlMappingNode rule)
            {
                var name = reader.String(rule, "name") ?? "";
                var setting = new RuleModeSetting(i, name, new ModeSetting());
                rules.Add(setting with { Setting = Level(rule, ApprovalPolicy.RulePath(setting), Flag(rule, "dryRun")) });
            }
        }
        return rules;
    }

    /// <summary>The mode and approval of one level; <paramref name="dryRun"/> is the level's older dryRun flag.</summary>
    private ModeSetting Level(YamlMappingNode node, string path, bool dryRun)
    {
        _lines[path.TrimEnd('.')] = node.Start.Line;
        RemediationMode? mode = null;
        if (reader.String(node, ModeKey) is { } text)
        {
            var modeNode = reader.Child(node, ModeKey)!;
            _lines[path + ModeKey] = modeNode.Start.Line;
            mode = RemediationModes.Parse(text);
            if (mode is null)
            {
                reader.Error(modeNode, $"{path}{ModeKey}: must be dry-run, approve or auto, not '{text}'");
            }
            else if (dryRun && mode != RemediationMode.DryRun)
            {
                reader.Error(modeNode, $"{path}{ModeKey}: '{text}' contradicts dryRun: true at the same level; remove dryRun or write mode: dry-run");
            }
        }
        return new ModeSetting { Mode = mode ?? (dryRun ? RemediationMode.DryRun : null), Approval = ReadApproval(node, path) };
    }

    private ApprovalSettings? ReadApproval(YamlMappingNode node, string path)
    {
        if (reader.Mapping(node, ApprovalKey) is not { } approval)
        {
            return null;
        }
        var prefix = path + ApprovalKey;
        _lines[prefix] = approval.Start.Line;
        reader.CheckKeys(approval, "deadline", "approvers");
        IReadOnlyList<string>? approvers = null;
        if (reader.Child(approval, "approvers") is { } list)
        {
            _lines[prefix + ".approvers"] = list.Start.Line;
            approvers = reader.StringList(approval, "approvers");
            if (list is YamlSequenceNode items)
            {
                for (var i = 0; i < items.Children.Count; i++)
                {
                    _lines[$"{prefix}.approvers[{i}]"] = items.Children[i].Start.Line;
                }
            }
        }
        if (reader.Child(approval, "deadline") is { } deadline)
        {
            _lines[prefix + ".deadline"] = deadline.Start.Line;
        }
        return new ApprovalSettings { Deadline = reader.Duration(approval, "deadline"), Approvers = approvers };
    }

    /// <summary>An older dryRun flag as written (its own errors are reported where it is read).</summary>
    private bool Flag(YamlMappingNode node, string key) =>
        reader.Child(node, key) is YamlScalarNode { Value: { } value } && bool.TryParse(value, out var flag) && flag;

    /// <summary>The line of the error's path, or of the nearest enclosing path that was written; else line 1.</summary>
    private long LineOf(string error)
    {
        var colon = error.IndexOf(": ", StringComparison.Ordinal);
        var path = colon < 0 ? "" : error[..colon];
        while (path.Length > 0)
        {
            if (_lines.TryGetValue(path, out var line))
            {
                return line;
            }
            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            path = cut <= 0 ? "" : path[..cut];
        }
        return _lines.GetValueOrDefault("", 1);
    }
}
