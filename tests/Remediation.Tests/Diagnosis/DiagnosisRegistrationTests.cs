using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Diagnosis;
using Remediation.Hosting;
using Remediation.Metrics;
using Remediation.Verification;

namespace Remediation.Tests.Diagnosis;

public sealed class DiagnosisRegistrationTests
{
    private static ServiceProvider Build(Dictionary<string, string?> settings)
    {
        settings["Remediation:Kubernetes:ServerUrl"] = "http://127.0.0.1:1";
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        return new ServiceCollection().AddRemediationCore(configuration).BuildServiceProvider();
    }

    [Fact]
    public void Without_Prometheus_the_health_signal_is_NoHealthSignal()
    {
        using var sp = Build([]);
        Assert.IsType<KubernetesDiagnoser>(sp.GetRequiredService<IDiagnoser>());
        Assert.IsType<NoHealthSignal>(sp.GetRequiredService<IHealthSignal>());
        Assert.Null(sp.GetService<IMeshSignals>());
        Assert.Null(sp.GetService<IContainerInsights>());
    }

    [Fact]
    public void With_Prometheus_and_Log_Analytics_configured()
    {
        using var sp = Build(new()
        {
            ["Remediation:Prometheus:Url"] = "http://127.0.0.1:9090",
            ["Remediation:Prometheus:QueryTimeout"] = "00:00:03",
            ["Remediation:LogAnalytics:WorkspaceId"] = "7e2d1c3b-9a8f-4e6d-b5c4-3a2b1c0d9e8f",
            ["Remediation:Diagnosis:MetricsWindow"] = "00:02:00",
        });
        Assert.IsType<KubernetesDiagnoser>(sp.GetRequiredService<IDiagnoser>());
        Assert.IsType<PrometheusHealthSignal>(sp.GetRequiredService<IHealthSignal>());
        Assert.Equal(TimeSpan.FromSeconds(3), sp.GetRequiredService<PrometheusClient>().QueryTimeout);
        Assert.IsType<LogAnalyticsContainerInsights>(sp.GetRequiredService<IContainerInsights>());
        Assert.Equal(TimeSpan.FromMinutes(2), sp.GetRequiredService<DiagnosisOptions>().MetricsWindow);
    }
}
