using System.Text.Json;
using Remediation.Tests.Fixtures;

namespace Remediation.FunctionsHost.Tests;

/// <summary>The built Functions app and the settings files the deployment and local runs use.</summary>
internal static class AppPaths
{
    /// <summary>The app's build output in the configuration these tests were built in (Release in CI).</summary>
    public static string AppDirectory { get; } = Path.Combine(RepoPaths.Root, "functions", "Remediation.Functions", "bin",
#if DEBUG
        "Debug",
#else
        "Release",
#endif
        "net10.0");

    public static string MainBicep => Path.Combine(RepoPaths.Root, "infra", "main.bicep");

    /// <summary>Values of local.settings.sample.json (environment-variable names, '__' separated).</summary>
    public static IReadOnlyDictionary<string, string> SampleSettings()
    {
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "local.settings.sample.json")));
        return doc.RootElement.GetProperty("Values").EnumerateObject().ToDictionary(p => p.Name, p => p.Value.GetString() ?? "");
    }

    /// <summary>Configuration key of an environment-variable name: Remediation__Storage__WorkQueue → Remediation:Storage:WorkQueue.</summary>
    public static string ConfigKey(string environmentName) => environmentName.Replace("__", ":", StringComparison.Ordinal);
}
