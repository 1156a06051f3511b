using YamlDotNet.Core;
using YamlDotNet.RepresentationModel;

namespace Remediation.Policy;

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
        var reader = new PolicyNodeReader(source, errors);
        reader.CheckKeys(root, "dryRun", "mode", "approval", ApprovalPolicy.NamespacesKey, "ownNamespace", "unmappedAlerts", "allow", "limits", "rules", ServiceGraphPolicyReader.Key);
        var allow = reader.Mapping(root, "allow");
        var policy = new RemediationPolicy
        {
            DryRun = reader.Bool(root, "dryRun") ?? false,
            OwnNamespace = reader.String(root, "ownNamespace") ?? "remediation",
            AllowedNamespaces = allow is null ? [] : reader.StringList(allow, "namespaces"),
            AllowedWorkloads = allow is null ? [] : reader.StringList(allow, "workloads"),
            Limits = ReadLimits(reader, reader.Mapping(root, "limits")),
            Rules = PolicyRuleReader.Read(reader, root),
            UnmappedAlerts = ReadUnmappedAlerts(reader, root),
            ServiceGraph = ServiceGraphPolicyReader.Read(reader, root),
        };
        policy = policy with { Approval = new PolicyModeReader(reader, source, errors).Read(root, [.. policy.AllowedNamespaces]) };
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

    private static UnmappedAlerts ReadUnmappedAlerts(PolicyNodeReader reader, YamlMappingNode root)
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

    private static SafetyLimits ReadLimits(PolicyNodeReader reader, YamlMappingNode? node)
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
}
