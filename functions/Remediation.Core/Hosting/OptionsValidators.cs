using System.Globalization;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Microsoft.Extensions.Options;
using Remediation.Diagnosis;
using Remediation.Metrics;
using Remediation.Notifications;
using Remediation.Storage;

namespace Remediation.Hosting;

/// <summary>
/// The failures of one options object, each naming its setting by its configuration key (Remediation:Prometheus:Url),
/// the value it had and the form expected, so a host refusing to start says what to change.
/// </summary>
internal sealed class SettingFailures(string section)
{
    private readonly List<string> _failures = [];

    public void Add(string message) => _failures.Add(message);

    public void Url(string key, string? value, string example, bool required = false)
    {
        if (string.IsNullOrWhiteSpace(value))
        {
            if (required)
            {
                _failures.Add($"{section}:{key} is not set: expected an absolute http(s) URL such as {example}");
            }
            return;
        }
        if (!IsAbsoluteHttpUrl(value))
        {
            _failures.Add($"{section}:{key} '{value}' must be an absolute http(s) URL such as {example}");
        }
    }

    public void Positive(string key, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            _failures.Add($"{section}:{key} '{value.ToString("c", CultureInfo.InvariantCulture)}' must be a positive duration such as 00:00:05");
        }
    }

    public void NotNegative(string key, TimeSpan value)
    {
        if (value < TimeSpan.Zero)
        {
            _failures.Add($"{section}:{key} '{value.ToString("c", CultureInfo.InvariantCulture)}' must not be negative (00:00:00 turns it off)");
        }
    }

    public void Range(string key, double value, double min, double max, string expected)
    {
        if (double.IsNaN(value) || value < min || value > max)
        {
            _failures.Add($"{section}:{key} '{value.ToString(CultureInfo.InvariantCulture)}' must be {expected}");
        }
    }

    public ValidateOptionsResult Result() => _failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(_failures);

    public static bool IsAbsoluteHttpUrl(string? value) =>
        Uri.TryCreate(value, UriKind.Absolute, out var uri) && (uri.Scheme == Uri.UriSchemeHttp || uri.Scheme == Uri.UriSchemeHttps) && !string.IsNullOrEmpty(uri.Host);
}

internal sealed class RemediationOptionsValidator : IValidateOptions<RemediationOptions>
{
    public ValidateOptionsResult Validate(string? name, RemediationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(RemediationOptions.SectionName);
        failures.Positive(nameof(options.ActionLease), options.ActionLease);
        failures.Positive(nameof(options.RequeueAfter), options.RequeueAfter);
        failures.Positive(nameof(options.FullSweepInterval), options.FullSweepInterval);
        failures.Positive(nameof(options.VerifyPollInterval), options.VerifyPollInterval);
        failures.Range(nameof(options.MaxConcurrentDeliveries), options.MaxConcurrentDeliveries, 1, 10_000, "a whole number from 1 to 10000");
        failures.Range(nameof(options.QueuedDeliveries), options.QueuedDeliveries, 0, 100_000, "a whole number from 0 to 100000");
        return failures.Result();
    }
}

internal sealed partial class StorageOptionsValidator : IValidateOptions<StorageOptions>
{
    public const string Example = "a storage connection string such as UseDevelopmentStorage=true (Azurite) or DefaultEndpointsProtocol=https;AccountName=…;AccountKey=…";

    public ValidateOptionsResult Validate(string? name, StorageOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(StorageOptions.SectionName);
        if (!string.IsNullOrWhiteSpace(options.ConnectionString))
        {
            if (!IsConnectionString(options.ConnectionString))
            {
                failures.Add($"{StorageOptions.SectionName}:ConnectionString is not a storage connection string: expected {Example}");
            }
        }
        else if (string.IsNullOrWhiteSpace(options.TableServiceUri) && string.IsNullOrWhiteSpace(options.QueueServiceUri))
        {
            failures.Add($"{StorageOptions.SectionName}:ConnectionString (environment: Remediation__Storage__ConnectionString) is not set: expected {Example} (or {StorageOptions.SectionName}:TableServiceUri + QueueServiceUri for a managed identity)");
        }
        else
        {
            failures.Url(nameof(options.TableServiceUri), options.TableServiceUri, "https://{account}.table.core.windows.net", required: true);
            failures.Url(nameof(options.QueueServiceUri), options.QueueServiceUri, "https://{account}.queue.core.windows.net", required: true);
        }
        // The in-flight table is the incidents table's name + "inflight": both must be valid table names.
        if ((options.IncidentsTable ?? "").Length > 63 - StorageOptions.InFlightSuffix.Length || !TableName().IsMatch(options.IncidentsTable ?? ""))
        {
            failures.Add($"{StorageOptions.SectionName}:IncidentsTable '{options.IncidentsTable}' is not a table name whose 'inflight' table is also valid: expected 3-55 letters and digits, starting with a letter");
        }
        // The poison queue is the work queue's name + "-poison": both must be valid queue names.
        if ((options.WorkQueue ?? "").Length > 63 - "-poison".Length || !QueueName().IsMatch(options.WorkQueue ?? ""))
        {
            failures.Add($"{StorageOptions.SectionName}:WorkQueue '{options.WorkQueue}' is not a queue name whose '-poison' queue is also valid: expected 3-56 lowercase letters, digits and single dashes");
        }
        return failures.Result();
    }

    private static bool IsConnectionString(string value)
    {
        try
        {
            _ = new TableServiceClient(value);
            return true;
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }

    [GeneratedRegex("^[A-Za-z][A-Za-z0-9]{2,62}$")]
    private static partial Regex TableName();

    [GeneratedRegex("^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")]
    private static partial Regex QueueName();
}

internal sealed class KubernetesOptionsValidator : IValidateOptions<KubernetesOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(KubernetesOptions.SectionName);
        if (!string.IsNullOrWhiteSpace(options.ServerUrl) && !SettingFailures.IsAbsoluteHttpUrl(options.ServerUrl))
        {
            failures.Add($"{KubernetesOptions.SectionName}:ServerUrl '{options.ServerUrl}' is not a URL: expected the API server's absolute http(s) URL such as https://10.0.0.1:6443");
        }
        if (string.IsNullOrWhiteSpace(options.ServerUrl) && !string.IsNullOrWhiteSpace(options.KubeconfigPath) && !File.Exists(options.KubeconfigPath))
        {
            failures.Add($"{KubernetesOptions.SectionName}:KubeconfigPath: file not found: {Path.GetFullPath(options.KubeconfigPath)}");
        }
        if (CertificateAuthorityProblem(options.CertificateAuthorityData) is { } caProblem)
        {
            failures.Add($"{KubernetesOptions.SectionName}:CertificateAuthorityData {caProblem}: expected base64 of the CA's PEM certificate, as a kubeconfig's certificate-authority-data");
        }
        failures.Positive(nameof(options.RequestTimeout), options.RequestTimeout);
        return failures.Result();
    }

    /// <summary>Null when the value is empty or base64 of PEM certificates, else what is wrong with it.</summary>
    private static string? CertificateAuthorityProblem(string? value)
    {
        try
        {
            _ = Kubernetes.KubernetesClientFactory.CertificateAuthorities(value);
            return null;
        }
        catch (FormatException ex)
        {
            return $"is not readable ({ex.Message.TrimEnd('.')})";
        }
        catch (System.Security.Cryptography.CryptographicException)
        {
            return "holds a PEM block that is not a certificate";
        }
    }
}

internal sealed class PrometheusOptionsValidator : IValidateOptions<PrometheusOptions>
{
    public ValidateOptionsResult Validate(string? name, PrometheusOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(PrometheusOptions.SectionName);
        failures.Url(nameof(options.Url), options.Url?.OriginalString, "http://prometheus:9090");
        switch ((options.Auth ?? "").Trim().ToLowerInvariant())
        {
            case "" or "none" or "azure":
                break;
            case "basic" when string.IsNullOrEmpty(options.Username):
                failures.Add($"{PrometheusOptions.SectionName}:Username is not set: {PrometheusOptions.SectionName}:Auth 'basic' needs a user name (and Password)");
                break;
            case "bearer" when string.IsNullOrEmpty(options.BearerToken):
                failures.Add($"{PrometheusOptions.SectionName}:BearerToken is not set: {PrometheusOptions.SectionName}:Auth 'bearer' needs a token");
                break;
            case "basic" or "bearer":
                break;
            default:
                failures.Add($"{PrometheusOptions.SectionName}:Auth '{options.Auth}' is not one of none, basic, bearer, azure");
                break;
        }
        failures.Positive(nameof(options.QueryTimeout), options.QueryTimeout);
        return failures.Result();
    }
}

internal sealed class LogAnalyticsOptionsValidator : IValidateOptions<LogAnalyticsOptions>
{
    public ValidateOptionsResult Validate(string? name, LogAnalyticsOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(LogAnalyticsOptions.SectionName);
        if (!string.IsNullOrWhiteSpace(options.WorkspaceId) && !Guid.TryParse(options.WorkspaceId, out _))
        {
            failures.Add($"{LogAnalyticsOptions.SectionName}:WorkspaceId '{options.WorkspaceId}' is not a workspace id: expected the workspace's GUID such as 7e2d1c3b-9a8f-4e6d-b5c4-3a2b1c0d9e8f");
        }
        failures.Url(nameof(options.Endpoint), options.Endpoint?.OriginalString, "https://api.loganalytics.io", required: true);
        failures.Positive(nameof(options.QueryTimeout), options.QueryTimeout);
        failures.Positive(nameof(options.Lookback), options.Lookback);
        return failures.Result();
    }
}

internal sealed class NotificationOptionsValidator : IValidateOptions<NotificationOptions>
{
    public ValidateOptionsResult Validate(string? name, NotificationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(NotificationOptions.SectionName);
        failures.Url(nameof(options.EventGridTopicEndpoint), options.EventGridTopicEndpoint, "https://{topic}.{region}-1.eventgrid.azure.net/api/events");
        failures.Url(nameof(options.WebhookUrl), options.WebhookUrl, "https://example.webhook.office.com/webhookb2/…");
        foreach (var state in options.States.Where(s => !IncidentLifecycle.TryParse(s, out var parsed) || !IncidentLifecycle.IsTerminal(parsed)))
        {
            failures.Add($"{NotificationOptions.SectionName}:States '{state}' is not a final state: expected one of {string.Join(", ", IncidentLifecycle.All.Where(IncidentLifecycle.IsTerminal))}");
        }
        return failures.Result();
    }
}

internal sealed class DiagnosisOptionsValidator : IValidateOptions<DiagnosisOptions>
{
    public ValidateOptionsResult Validate(string? name, DiagnosisOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var failures = new SettingFailures(DiagnosisOptions.SectionName);
        failures.Positive(nameof(options.Budget), options.Budget);
        failures.Positive(nameof(options.SourceTimeout), options.SourceTimeout);
        failures.Positive(nameof(options.MetricsWindow), options.MetricsWindow);
        failures.NotNegative(nameof(options.BaselineOffset), options.BaselineOffset);
        failures.NotNegative(nameof(options.RecentChange), options.RecentChange);
        failures.Range(nameof(options.ErrorRatioThreshold), options.ErrorRatioThreshold, double.Epsilon, 1, "a ratio above 0 and at most 1, such as 0.05");
        failures.Range(nameof(options.DegradedFactor), options.DegradedFactor, 1, double.MaxValue, "a factor of at least 1, such as 5");
        failures.Range(nameof(options.LatencyFactor), options.LatencyFactor, 1, double.MaxValue, "a factor of at least 1, such as 3");
        failures.Range(nameof(options.LatencyThresholdMs), options.LatencyThresholdMs, double.Epsilon, double.MaxValue, "a positive number of milliseconds, such as 1000");
        failures.Range(nameof(options.MinRequestsPerSecond), options.MinRequestsPerSecond, 0, double.MaxValue, "zero or more requests per second, such as 0.05");
        failures.Range(nameof(options.MaxEvents), options.MaxEvents, 0, int.MaxValue, "zero or more");
        failures.Range(nameof(options.MaxLogLines), options.MaxLogLines, 0, int.MaxValue, "zero or more");
        return failures.Result();
    }
}
