using Azure.Data.Tables;
using Microsoft.Extensions.Configuration;

namespace Remediation.Host;

/// <summary>A setting that is missing or malformed: the message names the setting and the expected form, in one line.</summary>
public sealed class HostSettingsException(string message) : Exception(message);

/// <summary>Checks of the settings the host and the CLI need, before anything is built from them, and their addresses for messages.</summary>
public static class HostSettings
{
    public const string StorageExample = "a storage connection string such as UseDevelopmentStorage=true (Azurite) or DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…";

    /// <summary>Why the storage settings cannot be used (<paramref name="option"/> names where they came from), or null.</summary>
    public static string? StorageProblem(IConfiguration configuration, string option = "Remediation:Storage:ConnectionString (environment: Remediation__Storage__ConnectionString)")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var storage = configuration.GetSection("Remediation:Storage");
        var connectionString = storage["ConnectionString"];
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            return IsAbsoluteHttpUrl(storage["TableServiceUri"]) && IsAbsoluteHttpUrl(storage["QueueServiceUri"])
                ? null
                : $"{option} is not set: expected {StorageExample} (or Remediation:Storage:TableServiceUri + QueueServiceUri for a managed identity)";
        }
        try
        {
            _ = new TableServiceClient(connectionString);
            return null;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return $"{option} is not a storage connection string: expected {StorageExample}";
        }
    }

    /// <summary>The Table Storage endpoint the settings point at (for "storage at … is unreachable"), or a placeholder.</summary>
    public static string StorageAddress(IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var storage = configuration.GetSection("Remediation:Storage");
        try
        {
            return string.IsNullOrWhiteSpace(storage["ConnectionString"])
                ? storage["TableServiceUri"] ?? "(no address configured)"
                : new TableServiceClient(storage["ConnectionString"]).Uri.GetLeftPart(UriPartial.Path).TrimEnd('/');
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return "(malformed connection string)";
        }
    }

    /// <summary>Why an explicit Kubernetes API server URL cannot be used (<paramref name="option"/> names where it came from), or null.</summary>
    public static string? KubernetesServerProblem(IConfiguration configuration, string option = "Remediation:Kubernetes:ServerUrl")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var server = configuration["Remediation:Kubernetes:ServerUrl"];
        return string.IsNullOrWhiteSpace(server) || IsAbsoluteHttpUrl(server)
            ? null
            : $"{option} '{server}' is not a URL: expected the API server's absolute http(s) URL such as https://10.0.0.1:6443";
    }

    /// <summary>Why an explicit Prometheus URL cannot be used, or null.</summary>
    public static string? PrometheusProblem(IConfiguration configuration, string option = "Remediation:Prometheus:Url")
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var url = configuration["Remediation:Prometheus:Url"];
        return string.IsNullOrWhiteSpace(url) || IsAbsoluteHttpUrl(url)
            ? null
            : $"{option} '{url}' is not a URL: expected an absolute http(s) URL such as http://prometheus:9090";
    }

    public static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(uri.Host);
}
