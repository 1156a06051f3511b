using Remediation.Diagnosis;
using YamlDotNet.RepresentationModel;

namespace Remediation.Policy;

/// <summary>
/// Reads and validates the policy's rules: unique names, a known action with parameters it accepts, known diagnosis
/// classes and label matchers whose regular expressions compile. Every problem names its line.
/// </summary>
internal static class PolicyRuleReader
{
    public static List<PolicyRule> Read(PolicyNodeReader reader, YamlMappingNode root)
    {
        var rules = new List<PolicyRule>();
        if (!root.Children.TryGetValue(new YamlScalarNode("rules"), out var rulesNode))
        {
            return rules;
        }
        if (rulesNode is not YamlSequenceNode sequence)
        {
            reader.Error(rulesNode, "'rules' must be a list of rules");
            return rules;
        }
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var item in sequence)
        {
            if (item is not YamlMappingNode rule)
            {
                reader.Error(item, "a rule must be a mapping with 'name', 'when' and 'action'");
                continue;
            }
            rules.Add(ReadRule(reader, rule, names));
        }
        return rules;
    }

    private static PolicyRule ReadRule(PolicyNodeReader reader, YamlMappingNode rule, HashSet<string> names)
    {
        reader.CheckKeys(rule, "name", "when", "action", "params", "dryRun", PolicyModeReader.ModeKey, PolicyModeReader.ApprovalKey);
        var name = reader.String(rule, "name");
        if (name is null)
        {
            reader.Error(rule, "rule is missing 'name'");
        }
        else if (!names.Add(name))
        {
            reader.Error(rule, $"duplicate rule name '{name}'");
        }
        var action = ReadAction(reader, rule, name);
        var when = reader.Mapping(rule, "when");
        var classes = new List<FailureClass>();
        var labels = new Dictionary<string, string>(StringComparer.Ordinal);
        if (when is not null)
        {
            ReadWhen(reader, when, classes, labels);
            CheckMatchers(reader, when, labels);
        }
        var parameters = reader.StringMap(rule, "params");
        if (action is not null)
        {
            CheckParameters(reader, rule, name, action, parameters);
        }
        return new PolicyRule
        {
            Name = name ?? "",
            Action = action ?? ActionNames.None,
            Classes = classes,
            Labels = labels,
            Parameters = parameters,
            DryRun = reader.Bool(rule, "dryRun") ?? false,
            Line = (int)rule.Start.Line,
        };
    }

    private static string? ReadAction(PolicyNodeReader reader, YamlMappingNode rule, string? name)
    {
        var action = reader.String(rule, "action");
        if (action is null)
        {
            reader.Error(rule, $"rule '{name}' is missing 'action' (one of: {string.Join(", ", ActionNames.All.Order())})");
        }
        else if (!ActionNames.All.Contains(action))
        {
            reader.Error(reader.Child(rule, "action")!, $"unknown action '{action}' (one of: {string.Join(", ", ActionNames.All.Order())})");
        }
        return action;
    }

    private static void ReadWhen(PolicyNodeReader reader, YamlMappingNode when, List<FailureClass> classes, Dictionary<string, string> labels)
    {
        reader.CheckKeys(when, "classes", "labels", "alertname", "severity");
        foreach (var cls in reader.StringList(when, "classes"))
        {
            if (Enum.TryParse<FailureClass>(cls, ignoreCase: false, out var parsed))
            {
                classes.Add(parsed);
            }
            else
            {
                reader.Error(reader.Child(when, "classes")!, $"unknown diagnosis class '{cls}' (one of: {string.Join(", ", Enum.GetNames<FailureClass>())})");
            }
        }
        foreach (var (key, value) in reader.StringMap(when, "labels"))
        {
            labels[key] = value;
        }
        if (reader.String(when, "alertname") is { } alertname)
        {
            labels["alertname"] = alertname;
        }
        if (reader.String(when, "severity") is { } severity)
        {
            labels["severity"] = severity;
        }
    }

    /// <summary>A "=~" label matcher must compile as the rule matcher compiles it.</summary>
    private static void CheckMatchers(PolicyNodeReader reader, YamlMappingNode when, Dictionary<string, string> labels)
    {
        foreach (var (key, value) in labels)
        {
            if (value.StartsWith("=~", StringComparison.Ordinal) && RegexProblem(value[2..]) is { } regexProblem)
            {
                reader.Error(reader.Child(when, key == "alertname" || key == "severity" ? key : "labels") ?? when, $"label matcher '{key}' is not a valid regular expression: {regexProblem}");
            }
        }
    }

    /// <summary>The same check each action makes when it plans (plan, replay, the pipeline), reported here with its line.</summary>
    private static void CheckParameters(PolicyNodeReader reader, YamlMappingNode rule, string? name, string action, Dictionary<string, string> parameters)
    {
        foreach (var (parameter, message) in ActionParameters.Problems(action, parameters))
        {
            var paramsNode = (YamlMappingNode)reader.Child(rule, "params")!;
            var keyNode = paramsNode.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: { } v } && v == parameter) ?? paramsNode;
            reader.Error(keyNode, $"rule '{name}': {message}");
        }
    }

    /// <summary>Null when the pattern compiles as the rule matcher compiles it, else why not.</summary>
    private static string? RegexProblem(string pattern)
    {
        try
        {
            _ = new System.Text.RegularExpressions.Regex($"^(?:{pattern})$", System.Text.RegularExpressions.RegexOptions.None, TimeSpan.FromMilliseconds(50));
            return null;
        }
        catch (ArgumentException ex)
        {
            return ex.Message;
        }
    }
}
