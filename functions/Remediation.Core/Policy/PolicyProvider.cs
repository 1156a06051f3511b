
namespace Remediation.Policy;

/// <summary>Holds the policy loaded (and validated) at start; no configured file means deny everything.</summary>
public sealed class PolicyProvider
{
    public PolicyProvider(RemediationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var path = Resolve(options.PolicyPath);
        Current = path is null ? RemediationPolicy.DenyAll : PolicyLoader.LoadFile(path);
        Source = path ?? "(none: default deny)";
    }

    public PolicyProvider(RemediationPolicy policy, string source = "(in memory)")
    {
        Current = policy;
        Source = source;
    }

    /// <summary>A relative path is looked up in the working directory, then next to the app (the Functions package).</summary>
    private static string? Resolve(string? path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return null;
        }
        if (Path.IsPathRooted(path) || File.Exists(path))
        {
            return path;
        }
        var besideApp = Path.Combine(AppContext.BaseDirectory, path);
        return File.Exists(besideApp) ? besideApp : path;
    }

    public RemediationPolicy Current { get; }
    public string Source { get; }
}
