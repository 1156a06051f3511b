using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Diagnosis;
using Remediation.Hosting;
using Remediation.Metrics;
using Remediation.ServiceGraph;

namespace Remediation.Host;

/// <summary>
/// The service graph around a planned alert's target for <c>remediation plan</c>: read from the configured Prometheus
/// (Istio's standard metrics) over the diagnosis's metrics window, one line per edge with its figures and health, then
/// the blame verdict with its evidence. Says so when no Prometheus is configured or it cannot be read.
/// </summary>
public static class PlanGraph
{
    public static async Task PrintAsync(TextWriter output, CliConnection connection, AlertPlan plan, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(plan);
        if (plan.Diagnosis is not { } diagnosis)
        {
            return;
        }

        var configuration = connection.BuildConfiguration();
        var options = configuration.GetSection(RemediationOptions.SectionName).Get<RemediationOptions>() ?? new RemediationOptions();
        if (options.Prometheus.Url is null)
        {
            output.WriteLine("graph      not read: no Prometheus configured (--prometheus or Remediation__Prometheus__Url)");
            return;
        }

        var services = new ServiceCollection().AddSingleton(TimeProvider.System);
        services.AddRemediationDiagnosis(configuration);
        await using var provider = services.BuildServiceProvider();
        var window = provider.GetRequiredService<DiagnosisOptions>().MetricsWindow;
        var center = new WorkloadId(diagnosis.Target.Namespace, diagnosis.Target.Name);
        var source = new PrometheusServiceGraphSource(provider.GetRequiredService<PrometheusClient>());
        var reading = await source.ReadAsync(center, window, cancellationToken).ConfigureAwait(false);
        var blame = BlameAnalyzer.Analyze(reading, center, diagnosis.Class == FailureClass.Saturation ? Symptom.Latency : Symptom.Errors);
        Print(output, reading, blame);
    }

    /// <summary>The graph (or why it could not be read), the verdict and its evidence, each line prefixed for the plan's layout.</summary>
    public static void Print(TextWriter output, GraphReading reading, Blame blame)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(reading);
        ArgumentNullException.ThrowIfNull(blame);
        var lines = GraphText.Render(reading, blame).TrimEnd('\n').Split('\n');
        output.WriteLine(Remediation.Text.DisplayText.Escape($"graph      {lines[0]}"));
        foreach (var line in lines.Skip(1))
        {
            output.WriteLine(Remediation.Text.DisplayText.Escape($"  {line.TrimStart()}"));
        }

        if (reading.Graph is null)
        {
            output.WriteLine(Remediation.Text.DisplayText.Escape($"  blame: {blame.Summary}"));
        }

        foreach (var evidence in blame.Evidence)
        {
            output.WriteLine(Remediation.Text.DisplayText.Escape($"  graph evidence: {evidence}"));
        }
    }
}
