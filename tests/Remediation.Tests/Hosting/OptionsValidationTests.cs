using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Remediation.Host;
using Remediation.Hosting;
using Remediation.Metrics;

namespace Remediation.Tests.Hosting;

/// <summary>Every options section is validated at start; a bad value is refused with a message naming the setting.</summary>
public sealed class OptionsValidationTests
{
    private static Dictionary<string, string?> Valid() => new()
    {
        ["Remediation:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
        ["Remediation:Kubernetes:ServerUrl"] = "http://127.0.0.1:1",
    };

    private static ServiceProvider Build(Dictionary<string, string?> settings) =>
        new ServiceCollection().AddRemediationCore(new ConfigurationBuilder().AddInMemoryCollection(settings).Build()).BuildServiceProvider();

    [Fact]
    public void Valid_settings_pass_the_start_checks()
    {
        var settings = Valid();
        settings["Remediation:Prometheus:Url"] = "http://127.0.0.1:9090";
        settings["Remediation:LogAnalytics:WorkspaceId"] = "7e2d1c3b-9a8f-4e6d-b5c4-3a2b1c0d9e8f";
        settings["Remediation:Notifications:WebhookUrl"] = "http://127.0.0.1:1/hook";
        using var sp = Build(settings);
        Assert.Null(OptionsRegistration.StartupProblem(sp));
    }

    [Theory]
    [InlineData("Remediation:ActionLease", "-00:00:01", "Remediation:ActionLease")]
    [InlineData("Remediation:VerifyPollInterval", "00:00:00", "Remediation:VerifyPollInterval")]
    [InlineData("Remediation:Storage:ConnectionString", "not a connection string", "Remediation:Storage:ConnectionString is not a storage connection string")]
    [InlineData("Remediation:Storage:WorkQueue", "Work_Queue", "Remediation:Storage:WorkQueue 'Work_Queue'")]
    [InlineData("Remediation:Storage:IncidentsTable", "1-incidents", "Remediation:Storage:IncidentsTable '1-incidents'")]
    [InlineData("Remediation:Kubernetes:ServerUrl", "not-a-url", "Remediation:Kubernetes:ServerUrl 'not-a-url' is not a URL")]
    [InlineData("Remediation:Kubernetes:RequestTimeout", "00:00:00", "Remediation:Kubernetes:RequestTimeout")]
    [InlineData("Remediation:Kubernetes:CertificateAuthorityData", "not base64!", "Remediation:Kubernetes:CertificateAuthorityData is not readable")]
    [InlineData("Remediation:Kubernetes:CertificateAuthorityData", "aGVsbG8=", "Remediation:Kubernetes:CertificateAuthorityData is not readable (no PEM certificate in it)")]
    [InlineData("Remediation:Prometheus:Url", "prometheus:9090/x", "Remediation:Prometheus:Url 'prometheus:9090/x' must be an absolute http(s) URL")]
    [InlineData("Remediation:Prometheus:Auth", "kerberos", "Remediation:Prometheus:Auth 'kerberos' is not one of none, basic, bearer, azure")]
    [InlineData("Remediation:Prometheus:QueryTimeout", "soon", "Remediation:Prometheus:QueryTimeout is not a duration")]
    [InlineData("Remediation:LogAnalytics:WorkspaceId", "my-workspace", "Remediation:LogAnalytics:WorkspaceId 'my-workspace' is not a workspace id")]
    [InlineData("Remediation:LogAnalytics:Lookback", "00:00:00", "Remediation:LogAnalytics:Lookback")]
    [InlineData("Remediation:Notifications:WebhookUrl", "hooks/teams", "Remediation:Notifications:WebhookUrl 'hooks/teams' must be an absolute http(s) URL")]
    [InlineData("Remediation:Notifications:EventGridTopicEndpoint", "ftp://topic", "Remediation:Notifications:EventGridTopicEndpoint 'ftp://topic'")]
    [InlineData("Remediation:Notifications:States:0", "Acting", "Remediation:Notifications:States 'Acting' is not a final state")]
    [InlineData("Remediation:Diagnosis:ErrorRatioThreshold", "1.5", "Remediation:Diagnosis:ErrorRatioThreshold '1.5' must be a ratio")]
    [InlineData("Remediation:Diagnosis:Budget", "00:00:00", "Remediation:Diagnosis:Budget")]
    [InlineData("Remediation:Diagnosis:MaxEvents", "many", "Remediation:Diagnosis:MaxEvents is not a whole number")]
    public void A_bad_value_is_refused_at_start_naming_the_setting(string key, string value, string expected)
    {
        var settings = Valid();
        settings[key] = value;
        using var sp = Build(settings);
        var problem = OptionsRegistration.StartupProblem(sp);
        Assert.NotNull(problem);
        Assert.Contains(expected, problem, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", problem, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', problem);
    }

    [Fact]
    public void Without_a_host_a_bad_setting_is_refused_where_it_is_first_used()
    {
        var settings = Valid();
        settings["Remediation:Prometheus:Url"] = "http://127.0.0.1:9090";
        settings["Remediation:Prometheus:Auth"] = "basic";
        using var sp = Build(settings);
        var ex = Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<PrometheusClient>());
        Assert.Contains("Remediation:Prometheus:Username is not set", ex.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Planning_without_storage_does_not_validate_storage()
    {
        using var sp = Build(new() { ["Remediation:Kubernetes:ServerUrl"] = "http://127.0.0.1:1" });
        Assert.Equal(TimeSpan.FromSeconds(60), sp.GetRequiredService<RemediationOptions>().ActionLease);
        Assert.Throws<OptionsValidationException>(() => sp.GetRequiredService<IOptions<StorageOptions>>().Value);
    }

    [Fact]
    public void The_standalone_host_refuses_a_bad_setting_in_one_line()
    {
        var ex = Assert.Throws<HostSettingsException>(() => StandaloneHost.Build(["--urls", "http://127.0.0.1:1"], new Dictionary<string, string?>
        {
            ["Remediation:Auth:BearerTokens:0"] = "t",
            ["Remediation:Storage:ConnectionString"] = "UseDevelopmentStorage=true",
            ["Remediation:Kubernetes:ServerUrl"] = "http://127.0.0.1:1",
            ["Remediation:Diagnosis:LatencyFactor"] = "0.5",
            ["Remediation:Notifications:WebhookUrl"] = "teams",
        }));
        Assert.Contains("Remediation:Diagnosis:LatencyFactor '0.5' must be a factor of at least 1", ex.Message, StringComparison.Ordinal);
        Assert.Contains("Remediation:Notifications:WebhookUrl 'teams'", ex.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', ex.Message);
    }
}
