using Remediation.Hosting;

namespace Remediation.Policy;

/// <summary>Holds the policy loaded (and validated) at start; no configured file means deny everything.</summary>
public sealed class PolicyProvider
{
    public PolicyProvider(RemediationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        Current = string.IsNullOrWhiteSpace(options.PolicyPath) ? RemediationPolicy.DenyAll : PolicyLoader.LoadFile(options.PolicyPath);
        Source = options.PolicyPath ?? "(none: default deny)";
    }

    public PolicyProvider(RemediationPolicy policy, string source = "(in memory)")
    {
        Current = policy;
        Source = source;
    }

    public RemediationPolicy Current { get; }
    public string Source { get; }
}
