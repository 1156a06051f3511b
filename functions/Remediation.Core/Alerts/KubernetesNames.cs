namespace Remediation.Alerts;

/// <summary>
/// The Kubernetes object-name rules (apimachinery validation): a namespace is an RFC 1123 label, a workload or pod
/// name an RFC 1123 subdomain. A name that breaks them never reaches the cluster, a URL, a storage key or a policy match.
/// </summary>
public static class KubernetesNames
{
    public const int MaxLabelLength = 63;
    public const int MaxSubdomainLength = 253;

    public const string LabelRule =
        "an RFC 1123 label: at most 63 lower-case letters, digits or '-', starting and ending with a letter or digit";

    public const string SubdomainRule =
        "an RFC 1123 subdomain: at most 253 lower-case letters, digits, '-' or '.', each '.'-separated part starting and ending with a letter or digit";

    /// <summary>True when <paramref name="value"/> is an RFC 1123 label (a namespace name).</summary>
    public static bool IsLabel(string? value) =>
        value is { Length: > 0 and <= MaxLabelLength } && IsLabelPart(value);

    /// <summary>
    /// True when <paramref name="value"/> is an RFC 1123 subdomain as Kubernetes checks it (a Deployment, pod or ReplicaSet
    /// name): at most 253 characters in all; its '.'-separated parts have no length limit of their own (apimachinery's
    /// IsDNS1123Subdomain), so a Deployment named with 68 characters is valid and is not escalated as invalid.
    /// </summary>
    public static bool IsSubdomain(string? value)
    {
        if (value is not { Length: > 0 and <= MaxSubdomainLength })
        {
            return false;
        }
        foreach (var part in value.Split('.'))
        {
            if (part.Length == 0 || !IsLabelPart(part))
            {
                return false;
            }
        }
        return true;
    }

    /// <summary>Null when the namespace is valid, else why not (naming the label it came from).</summary>
    public static string? NamespaceProblem(string label, string? value) =>
        IsLabel(value) ? null : $"label '{label}' value {Quote(value)} is not a valid namespace name (expected {LabelRule})";

    /// <summary>Null when the object name is valid, else why not (naming the label it came from).</summary>
    public static string? NameProblem(string label, string? value) =>
        IsSubdomain(value) ? null : $"label '{label}' value {Quote(value)} is not a valid Kubernetes object name (expected {SubdomainRule})";

    /// <summary>Throws when a namespace or name that is about to reach the cluster breaks the rules (a programming error upstream).</summary>
    public static void EnsureValid(string @namespace, string name)
    {
        if (!IsLabel(@namespace))
        {
            throw new ArgumentException($"namespace {Quote(@namespace)} is not {LabelRule}", nameof(@namespace));
        }
        if (!IsSubdomain(name))
        {
            throw new ArgumentException($"name {Quote(name)} is not {SubdomainRule}", nameof(name));
        }
    }

    /// <summary>A value quoted for a message: control and format characters escaped, long values cut.</summary>
    public static string Quote(string? value)
    {
        if (value is null)
        {
            return "(missing)";
        }
        var builder = new System.Text.StringBuilder("'");
        foreach (var c in value.Length > 80 ? value[..80] : value)
        {
            // Every surrogate is escaped here (the value may be cut inside a pair); see DisplayText for the rest.
            if (Remediation.Text.DisplayText.IsUnsafe(c) || char.IsSurrogate(c))
            {
                Remediation.Text.DisplayText.AppendEscaped(builder, c);
            }
            else if (c is '\'' or '\\')
            {
                builder.Append('\\').Append(c);
            }
            else
            {
                builder.Append(c);
            }
        }
        builder.Append('\'');
        if (value.Length > 80)
        {
            builder.Append(System.Globalization.CultureInfo.InvariantCulture, $"… ({value.Length} characters)");
        }
        return builder.ToString();
    }

    private static bool IsLabelPart(string part)
    {
        if (!IsLowerAlphanumeric(part[0]) || !IsLowerAlphanumeric(part[^1]))
        {
            return false;
        }
        foreach (var c in part)
        {
            if (!IsLowerAlphanumeric(c) && c != '-')
            {
                return false;
            }
        }
        return true;
    }

    private static bool IsLowerAlphanumeric(char c) => c is (>= 'a' and <= 'z') or (>= '0' and <= '9');
}
