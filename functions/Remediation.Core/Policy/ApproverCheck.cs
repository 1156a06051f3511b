namespace Remediation.Policy;

/// <summary>
/// Who may approve: a list of identities (user principal names, e-mail addresses, object ids) and groups written
/// <c>group:NAME</c>. Matching is exact and case-insensitive (ordinal, no culture, no Unicode normalization): an
/// identity entry matches only a principal with exactly that name, a group entry only a group the principal is a member
/// of with exactly that name. There are no substrings, prefixes, domains or wildcards: <c>alice</c> does not match
/// <c>alice@contoso.com</c>, <c>*@contoso.com</c> matches nobody (and <c>policy validate</c> refuses it), and an identity
/// entry never matches a group or the other way round. The <c>group:</c> prefix itself may be written in any case.
/// </summary>
public sealed class ApproverCheck
{
    public const string GroupPrefix = "group:";

    private readonly HashSet<string> _identities = new(StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _groups = new(StringComparer.OrdinalIgnoreCase);

    public ApproverCheck(IEnumerable<string> approvers)
    {
        ArgumentNullException.ThrowIfNull(approvers);
        foreach (var entry in approvers.Where(e => !string.IsNullOrEmpty(e)))
        {
            if (IsGroup(entry))
            {
                if (entry.Length > GroupPrefix.Length)
                {
                    _groups.Add(entry[GroupPrefix.Length..]);
                }
            }
            else
            {
                _identities.Add(entry);
            }
        }
    }

    /// <summary>Nobody may approve (no approver is configured).</summary>
    public static ApproverCheck Nobody { get; } = new([]);

    public bool IsEmpty => _identities.Count == 0 && _groups.Count == 0;

    /// <summary>True when <paramref name="principalName"/> is a listed identity or one of <paramref name="principalGroups"/>
    /// is a listed group. An empty or missing name is never allowed, whatever its groups.</summary>
    public bool IsAllowed(string? principalName, IEnumerable<string>? principalGroups)
    {
        if (string.IsNullOrEmpty(principalName))
        {
            return false;
        }
        return _identities.Contains(principalName)
            || (principalGroups ?? []).Any(g => !string.IsNullOrEmpty(g) && _groups.Contains(g));
    }

    internal static bool IsGroup(string entry) => entry.StartsWith(GroupPrefix, StringComparison.OrdinalIgnoreCase);
}
