using System.Globalization;
using Remediation.Diagnosis;
using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Remediation.Policy;

/// <summary>A policy file that cannot be used; every problem names its line.</summary>
public sealed class PolicyValidationException(IReadOnlyList<string> errors)
    : Exception("invalid policy:\n" + string.Join("\n", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}

/// <summary>Loads and validates the policy (runbook) file: YAML, or JSON (a YAML subset).</summary>
public static class PolicyLoader
{
    public static RemediationPolicy LoadFile(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        if (!File.Exists(path))
        {
            throw new PolicyValidationException([$"{path}: file not found"]);
        }
        return Parse(File.ReadAllText(path), path);
    }

    public static RemediationPolicy Parse(string text, string source = "policy")
    {
        var errors = new List<string>();
        var yaml = new YamlStream();
        try
        {
            yaml.Load(new StringReader(text));
        }
        catch (YamlException ex)
        {
            throw new PolicyValidationException([SyntaxError(source, ex)]);
        }
        catch (InvalidOperationException)
        {
            // The scanner gives up without a position on some malformed input: report the last line it reached.
            throw new PolicyValidationException([$"{source}:{LastScannedLine(text)}: YAML syntax error: unterminated or malformed construct"]);
        }
        if (yaml.Documents.Count == 0 || yaml.Documents[0].RootNode is not YamlMappingNode root)
        {
            throw new PolicyValidationException([$"{source}:1: expected a mapping with 'allow', 'limits' and 'rules'"]);
        }
        var reader = new NodeReader(source, errors);
        reader.CheckKeys(root, "dryRun", "ownNamespace", "unmappedAlerts", "allow", "limits", "rules");
        var allow = reader.Mapping(root, "allow");
        var policy = new RemediationPolicy
        {
            DryRun = reader.Bool(root, "dryRun") ?? false,
            OwnNamespace = reader.String(root, "ownNamespace") ?? "remediation",
            AllowedNamespaces = allow is null ? [] : reader.StringList(allow, "namespaces"),
            AllowedWorkloads = allow is null ? [] : reader.StringList(allow, "workloads"),
            Limits = ReadLimits(reader, reader.Mapping(root, "limits")),
            Rules = ReadRules(reader, root),
            UnmappedAlerts = ReadUnmappedAlerts(reader, root),
        };
        if (allow is not null)
        {
            reader.CheckKeys(allow, "namespaces", "workloads");
            foreach (var ns in policy.AllowedNamespaces.Where(n => RemediationPolicy.AlwaysDenied.Contains(n) || n == policy.OwnNamespace))
            {
                errors.Add($"{source}:{reader.Child(allow, "namespaces")!.Start.Line}: allow.namespaces lists protected namespace '{ns}', which is never remediated");
            }
        }
        if (errors.Count > 0)
        {
            throw new PolicyValidationException(errors);
        }
        return policy;
    }

    /// <summary>
    /// A YAML syntax error on the line where the scanner found the problem (its End: a tab on line 8 is on line 8), and
    /// where the value it was reading began when that is an earlier line (its Start).
    /// </summary>
    internal static string SyntaxError(string source, YamlException ex)
    {
        var found = ex.End.Line >= ex.Start.Line && ex.End.Line > 0 ? ex.End.Line : ex.Start.Line;
        var begins = ex.Start.Line < found ? $" (the value being read begins on line {ex.Start.Line})" : "";
        return $"{source}:{found}: YAML syntax error: {ex.Message}{begins}";
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

    private static UnmappedAlerts ReadUnmappedAlerts(NodeReader reader, YamlMappingNode root)
    {
        switch (reader.String(root, "unmappedAlerts"))
        {
            case null:
            case "ignore":
                return UnmappedAlerts.Ignore;
            case "escalate":
                return UnmappedAlerts.Escalate;
            case var other:
                reader.Error(reader.Child(root, "unmappedAlerts")!, $"'unmappedAlerts' must be ignore or escalate, not '{other}'");
                return UnmappedAlerts.Ignore;
        }
    }

    private static long LastScannedLine(string text)
    {
        var scanner = new Scanner(new StringReader(text));
        long line = 1;
        try
        {
            while (scanner.MoveNext())
            {
                line = scanner.Current?.Start.Line ?? line;
            }
        }
        catch (Exception ex) when (ex is YamlException or InvalidOperationException)
        {
            return line;
        }
        return line;
    }

    private static SafetyLimits ReadLimits(NodeReader reader, YamlMappingNode? node)
    {
        var defaults = new SafetyLimits();
        if (node is null)
        {
            return defaults;
        }
        reader.CheckKeys(node, "cooldown", "window", "maxActionsPerWindow", "maxConcurrent", "breakerFailures", "maxReplicas", "scaleStep", "verifyDeadline", "verifySoak", "healthyErrorRatio");
        return new SafetyLimits
        {
            Cooldown = reader.Duration(node, "cooldown") ?? defaults.Cooldown,
            Window = reader.Duration(node, "window") ?? defaults.Window,
            MaxActionsPerWindow = reader.Int(node, "maxActionsPerWindow", 1) ?? defaults.MaxActionsPerWindow,
            MaxConcurrent = reader.Int(node, "maxConcurrent", 1) ?? defaults.MaxConcurrent,
            BreakerFailures = reader.Int(node, "breakerFailures", 1) ?? defaults.BreakerFailures,
            MaxReplicas = reader.Int(node, "maxReplicas", 1) ?? defaults.MaxReplicas,
            ScaleStep = reader.Int(node, "scaleStep", 1) ?? defaults.ScaleStep,
            VerifyDeadline = reader.Duration(node, "verifyDeadline") ?? defaults.VerifyDeadline,
            VerifySoak = reader.Duration(node, "verifySoak") ?? defaults.VerifySoak,
            HealthyErrorRatio = reader.Double(node, "healthyErrorRatio") ?? defaults.HealthyErrorRatio,
        };
    }

    private static List<PolicyRule> ReadRules(NodeReader reader, YamlMappingNode root)
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
            reader.CheckKeys(rule, "name", "when", "action", "params", "dryRun");
            var name = reader.String(rule, "name");
            if (name is null)
            {
                reader.Error(rule, "rule is missing 'name'");
            }
            else if (!names.Add(name))
            {
                reader.Error(rule, $"duplicate rule name '{name}'");
            }
            var action = reader.String(rule, "action");
            if (action is null)
            {
                reader.Error(rule, $"rule '{name}' is missing 'action' (one of: {string.Join(", ", ActionNames.All.Order())})");
            }
            else if (!ActionNames.All.Contains(action))
            {
                reader.Error(reader.Child(rule, "action")!, $"unknown action '{action}' (one of: {string.Join(", ", ActionNames.All.Order())})");
            }
            var when = reader.Mapping(rule, "when");
            var classes = new List<FailureClass>();
            var labels = new Dictionary<string, string>(StringComparer.Ordinal);
            if (when is not null)
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
            foreach (var (key, value) in labels)
            {
                if (value.StartsWith("=~", StringComparison.Ordinal) && RegexProblem(value[2..]) is { } regexProblem)
                {
                    reader.Error(reader.Child(when!, key == "alertname" || key == "severity" ? key : "labels") ?? when!, $"label matcher '{key}' is not a valid regular expression: {regexProblem}");
                }
            }
            var parameters = reader.StringMap(rule, "params");
            if (action is not null)
            {
                // The same check each action makes when it plans (plan, replay, the pipeline), reported here with its line.
                foreach (var (parameter, message) in ActionParameters.Problems(action, parameters))
                {
                    var paramsNode = (YamlMappingNode)reader.Child(rule, "params")!;
                    var keyNode = paramsNode.Children.Keys.FirstOrDefault(k => k is YamlScalarNode { Value: { } v } && v == parameter) ?? paramsNode;
                    reader.Error(keyNode, $"rule '{name}': {message}");
                }
            }
            rules.Add(new PolicyRule
            {
                Name = name ?? "",
                Action = action ?? ActionNames.None,
                Classes = classes,
                Labels = labels,
                Parameters = parameters,
                DryRun = reader.Bool(rule, "dryRun") ?? false,
                Line = (int)rule.Start.Line,
            });
        }
        return rules;
    }

    /// <summary>Typed reads of YAML nodes that collect errors with line numbers instead of throwing.</summary>
    private sealed class NodeReader(string source, List<string> errors)
    {
        public void Error(YamlNode node, string message) => errors.Add($"{source}:{node.Start.Line}: {message}");

        public YamlNode? Child(YamlMappingNode node, string key) =>
            node.Children.TryGetValue(new YamlScalarNode(key), out var child) ? child : null;

        public void CheckKeys(YamlMappingNode node, params string[] allowed)
        {
            foreach (var key in node.Children.Keys)
            {
                if (key is YamlScalarNode { Value: { } name } && !allowed.Contains(name, StringComparer.Ordinal))
                {
                    Error(key, $"unknown key '{name}' (expected one of: {string.Join(", ", allowed)})");
                }
            }
        }

        public YamlMappingNode? Mapping(YamlMappingNode node, string key)
        {
            var child = Child(node, key);
            if (child is null || child is YamlScalarNode { Value: null or "" or "~" or "null" })
            {
                return null;
            }
            if (child is YamlMappingNode mapping)
            {
                return mapping;
            }
            Error(child, $"'{key}' must be a mapping");
            return null;
        }

        public string? String(YamlMappingNode node, string key)
        {
            var child = Child(node, key);
            if (child is null)
            {
                return null;
            }
            if (child is YamlScalarNode scalar)
            {
                return string.IsNullOrEmpty(scalar.Value) ? null : scalar.Value;
            }
            Error(child, $"'{key}' must be a string");
            return null;
        }

        public bool? Bool(YamlMappingNode node, string key)
        {
            var value = String(node, key);
            if (value is null)
            {
                return null;
            }
            if (bool.TryParse(value, out var result))
            {
                return result;
            }
            Error(Child(node, key)!, $"'{key}' must be true or false, not '{value}'");
            return null;
        }

        public int? Int(YamlMappingNode node, string key, int min)
        {
            var value = String(node, key);
            if (value is null)
            {
                return null;
            }
            if (int.TryParse(value, NumberStyles.Integer, CultureInfo.InvariantCulture, out var result) && result >= min)
            {
                return result;
            }
            Error(Child(node, key)!, $"'{key}' must be an integer ≥ {min}, not '{value}'");
            return null;
        }

        public double? Double(YamlMappingNode node, string key)
        {
            var value = String(node, key);
            if (value is null)
            {
                return null;
            }
            if (double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out var result) && result is >= 0 and <= 1)
            {
                return result;
            }
            Error(Child(node, key)!, $"'{key}' must be a ratio between 0 and 1, not '{value}'");
            return null;
        }

        public TimeSpan? Duration(YamlMappingNode node, string key)
        {
            var value = String(node, key);
            if (value is null)
            {
                return null;
            }
            if (DurationText.TryParse(value, out var result))
            {
                return result;
            }
            Error(Child(node, key)!, $"'{key}' must be a duration like 30s, 10m, 1h, not '{value}'");
            return null;
        }

        public List<string> StringList(YamlMappingNode node, string key)
        {
            var child = Child(node, key);
            switch (child)
            {
                case null:
                    return [];
                case YamlSequenceNode sequence:
                    var list = new List<string>();
                    foreach (var item in sequence)
                    {
                        if (item is YamlScalarNode { Value: { Length: > 0 } value })
                        {
                            list.Add(value);
                        }
                        else
                        {
                            Error(item, $"'{key}' items must be non-empty strings");
                        }
                    }
                    return list;
                default:
                    Error(child, $"'{key}' must be a list");
                    return [];
            }
        }

        public Dictionary<string, string> StringMap(YamlMappingNode node, string key)
        {
            var result = new Dictionary<string, string>(StringComparer.Ordinal);
            var child = Child(node, key);
            if (child is null)
            {
                return result;
            }
            if (child is not YamlMappingNode mapping)
            {
                Error(child, $"'{key}' must be a mapping of strings");
                return result;
            }
            foreach (var (k, v) in mapping.Children)
            {
                if (k is YamlScalarNode { Value: { } name } && v is YamlScalarNode { Value: { } value })
                {
                    result[name] = value;
                }
                else
                {
                    Error(v, $"'{key}' values must be strings");
                }
            }
            return result;
        }
    }
}

/// <summary>Durations as operators write them: 90s, 10m, 1h30m, or a TimeSpan (00:10:00).</summary>
public static class DurationText
{
    public static bool TryParse(string text, out TimeSpan value)
    {
        value = TimeSpan.Zero;
        if (TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out value) && text.Contains(':', StringComparison.Ordinal))
        {
            return value >= TimeSpan.Zero;
        }
        var match = System.Text.RegularExpressions.Regex.Match(text, @"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$");
        if (!match.Success || text.Length == 0)
        {
            return false;
        }
        value = new TimeSpan(
            match.Groups[1].Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : 0,
            match.Groups[2].Success ? int.Parse(match.Groups[2].Value, CultureInfo.InvariantCulture) : 0,
            match.Groups[3].Success ? int.Parse(match.Groups[3].Value, CultureInfo.InvariantCulture) : 0);
        return true;
    }
}
