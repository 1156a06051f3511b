namespace Remediation.Tests.Fixtures;

/// <summary>Locates the repository root (where Remediation.sln is) from the test output directory.</summary>
public static class RepoPaths
{
    public static string Root { get; } = FindRoot();

    public static string Scenario(string name) => Path.Combine(Root, "tests", "scenarios", name);

    public static string Payload(string relative) => Path.Combine(Root, "tests", "Remediation.Tests", "Payloads", relative);

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "Remediation.sln")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Remediation.sln not found above " + AppContext.BaseDirectory);
    }
}
