using System.Globalization;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Alerts;
using Remediation.Diagnosis;
using Remediation.Pipeline;
using Remediation.Policy;
using Remediation.Storage;
using Remediation.Text;

namespace Remediation.Host;

/// <summary>
/// What the pipeline would do with one alert: its diagnosis (when it got that far), the safety gate's verdict on the
/// target (when the alert was aimed at one) and the decision.
/// </summary>
public sealed record AlertPlan(NormalizedAlert Alert, DiagnosisResult? Diagnosis, Decision Decision, GateCheck? Gate = null);

/// <summary>
/// Diagnose + decide for alerts against the configured cluster, with the core's own <see cref="IDiagnoser"/> and
/// <see cref="RemediationPlanner"/> and the same <see cref="SafetyGate"/> in the same order as the pipeline; reads only.
/// </summary>
public sealed class AlertPlanning(IDiagnoser diagnoser, RemediationPlanner planner, SafetyGate gate)
{
    public static AlertPlanning From(IServiceProvider services) =>
        new(services.GetRequiredService<IDiagnoser>(), services.GetRequiredService<RemediationPlanner>(), services.GetRequiredService<SafetyGate>());

    public RemediationPolicy Policy => planner.Policy;

    public async Task<AlertPlan> PlanAsync(NormalizedAlert alert, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(alert);
        if (alert.Status == AlertStatus.Resolved)
        {
            return new AlertPlan(alert, null, new Decision(DecisionKind.NoAction, "resolved notification: recorded, never acted on"));
        }
        var aim = await planner.AimAsync(alert, cancellationToken).ConfigureAwait(false);
        if (aim is not { Target: { } target })
        {
            return new AlertPlan(alert, null, aim.Decision!);
        }
        var check = await gate.CheckAsync(target, alert.IncidentId, cancellationToken: cancellationToken).ConfigureAwait(false);
        var diagnosis = aim.WithOwnership(await diagnoser.DiagnoseAsync(alert, target, cancellationToken).ConfigureAwait(false));
        var decision = await planner.DecideAsync(alert, target, diagnosis, check, cancellationToken).ConfigureAwait(false);
        return new AlertPlan(alert, diagnosis, decision, check);
    }

    /// <summary>Reads and parses an Alertmanager payload file; the exception names the offending field.</summary>
    public static async Task<IReadOnlyList<NormalizedAlert>> ReadAlertsAsync(string path, CancellationToken cancellationToken)
    {
        var body = await File.ReadAllBytesAsync(path, cancellationToken).ConfigureAwait(false);
        if (body.Length == 0)
        {
            throw new AlertParseException("$", "the file is empty; expected an Alertmanager webhook payload");
        }
        return AlertmanagerNormalizer.Parse(body);
    }

    /// <summary>One line for a decision: "rollback: …", "Escalated: …".</summary>
    public static string Verdict(Decision decision)
    {
        ArgumentNullException.ThrowIfNull(decision);
        return decision switch
        {
            { Kind: DecisionKind.Act, Plan: { } plan } => $"{plan.Action}{(decision.DryRun ? " (dry-run by policy)" : "")}: {plan.Summary}",
            _ => $"{decision.State}: {decision.Reason}",
        };
    }
}

/// <summary>`remediation plan alert.json`: prints the diagnosis, evidence, decision and plan for each alert; changes nothing.</summary>
public static class PlanCommand
{
    public static async Task<int> RunAsync(string alertFile, CliConnection connection, TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connection);
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(errors);
        if (Directory.Exists(alertFile))
        {
            errors.WriteLine($"{Path.GetFullPath(alertFile)} is a directory; plan takes one Alertmanager payload file (replay takes a directory)");
            return 2;
        }
        if (!File.Exists(alertFile))
        {
            errors.WriteLine($"alert file not found: {Path.GetFullPath(alertFile)}");
            return 2;
        }
        IReadOnlyList<NormalizedAlert> alerts;
        try
        {
            alerts = await AlertPlanning.ReadAlertsAsync(alertFile, cancellationToken).ConfigureAwait(false);
        }
        catch (AlertParseException ex)
        {
            errors.WriteLine($"{alertFile}: field '{ex.Field}': {ex.Message}");
            return 2;
        }
        return await CliRun.WithPlanningAsync(connection, errors, async (planning, hasStorage) =>
        {
            PrintContext(output, planning.Policy, hasStorage);
            foreach (var alert in alerts)
            {
                var plan = await planning.PlanAsync(alert, cancellationToken).ConfigureAwait(false);
                output.WriteLine();
                Print(output, plan);
                await PlanGraph.PrintAsync(output, connection, plan, cancellationToken).ConfigureAwait(false);
            }
            output.WriteLine();
            output.WriteLine("nothing was changed: plan reads the cluster and the action history only");
            return 0;
        }).ConfigureAwait(false);
    }

    public static void PrintContext(TextWriter output, RemediationPolicy policy, bool hasStorage)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(policy);
        if (ReferenceEquals(policy, RemediationPolicy.DenyAll))
        {
            output.WriteLine("note: no policy configured (--policy or Remediation__PolicyPath): default deny, every alert is refused");
        }
        if (!hasStorage)
        {
            output.WriteLine("note: no storage configured (--storage): cooldown and action limits are checked against an empty history");
        }
    }

    public static void Print(TextWriter output, AlertPlan plan)
    {
        ArgumentNullException.ThrowIfNull(output);
        ArgumentNullException.ThrowIfNull(plan);
        // Alert text reaches the terminal: control and bidi characters escaped, as history and replay show them.
        void Line(string text) => output.WriteLine(DisplayText.Escape(text));
        var alert = plan.Alert;
        Line($"alert      {alert.Name} ({alert.Source}, {alert.Status.ToString().ToLowerInvariant()}, severity {alert.Severity ?? "-"}), incident {alert.IncidentId}");
        Line($"target     {alert.Target?.ToString() ?? "(none: " + alert.TargetProblem + ")"}");
        if (plan.Diagnosis is { } diagnosis)
        {
            Line($"diagnosis  {diagnosis.Class} of {diagnosis.Component} (confidence {diagnosis.Confidence.ToString("0.00", CultureInfo.InvariantCulture)}): {diagnosis.Summary}");
            foreach (var evidence in diagnosis.Evidence)
            {
                Line($"  evidence [{evidence.Source}] {evidence.Text}");
            }
            foreach (var missing in diagnosis.Unavailable)
            {
                Line($"  not available: {missing}");
            }
        }
        if (plan.Gate is { } gate)
        {
            Line($"gate       {gate.Describe()}");
        }
        var decision = plan.Decision;
        Line($"decision   {decision.Kind}{(decision.Rule is null ? "" : $" (rule '{decision.Rule}')")}: {decision.Reason}");
        if (decision.Plan is { } actionPlan)
        {
            Line($"action     {actionPlan.Action}{(decision.DryRun ? " (dry-run by policy)" : "")}: {actionPlan.Summary}");
            foreach (var mutation in actionPlan.Mutations)
            {
                Line($"  mutation {mutation.Kind} {mutation.Namespace}/{mutation.Name} (resourceVersion {mutation.ResourceVersion ?? "-"}): {mutation.Description}");
            }
            Line($"prior      {actionPlan.PriorState.ToJsonString()}");
            var verify = actionPlan.Verify;
            Line($"verify     {(verify.RolloutComplete ? "rollout complete" : "")}{(verify.MaxErrorRatio is { } ratio ? $", error ratio ≤ {ratio.ToString(CultureInfo.InvariantCulture)}" : "")}; deadline {verify.Deadline}, soak {verify.Soak}");
        }
    }
}

/// <summary>Shared error handling of the commands that plan: bad policy → 2, unreachable dependency → 1.</summary>
internal static class CliRun
{
    public static async Task<int> WithPlanningAsync(CliConnection connection, TextWriter errors, Func<AlertPlanning, bool, Task<int>> body)
    {
        if (connection.Policy is { } policyPath && Directory.Exists(policyPath))
        {
            errors.WriteLine($"--policy: {Path.GetFullPath(policyPath)} is a directory; expected a policy file (YAML or JSON)");
            return 2;
        }
        if (connection.Policy is { } missingPath && !File.Exists(missingPath))
        {
            errors.WriteLine($"policy file not found: {Path.GetFullPath(missingPath)}");
            return 2;
        }
        var configuration = connection.BuildConfiguration();
        var problem = HostSettings.KubernetesServerProblem(configuration, connection.KubernetesServer is null ? "Remediation__Kubernetes__ServerUrl" : "--kubernetes-server")
            ?? HostSettings.PrometheusProblem(configuration, connection.Prometheus is null ? "Remediation__Prometheus__Url" : "--prometheus")
            ?? (CliConnection.HasStorage(configuration) ? HostSettings.StorageProblem(configuration, connection.Storage is null ? "Remediation__Storage__ConnectionString" : "--storage") : null);
        if (problem is not null)
        {
            errors.WriteLine(problem);
            return 2;
        }
        try
        {
            await using var services = CliConnection.PlanningServices(configuration);
            return await body(AlertPlanning.From(services), CliConnection.HasStorage(configuration)).ConfigureAwait(false);
        }
        catch (PolicyValidationException ex)
        {
            errors.WriteLine("invalid policy:");
            foreach (var error in ex.Errors)
            {
                errors.WriteLine(error);
            }
            return 2;
        }
        catch (Exception ex) when (ex is TransientDependencyException or HttpRequestException or k8s.Autorest.HttpOperationException or k8s.Exceptions.KubeConfigException
            or InvalidOperationException or Azure.RequestFailedException)
        {
            errors.WriteLine(Unreachable(ex, configuration));
            return 1;
        }
    }

    /// <summary>One line naming the dependency that failed and its address, without the SDKs' retry and diagnostic text.</summary>
    public static string Unreachable(Exception ex, Microsoft.Extensions.Configuration.IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(ex);
        ArgumentNullException.ThrowIfNull(configuration);
        var kubernetes = configuration["Remediation:Kubernetes:ServerUrl"] is { Length: > 0 } server ? server
            : configuration["Remediation:Kubernetes:KubeconfigPath"] is { Length: > 0 } kubeconfig ? $"the server of {kubeconfig}" : "the configured cluster";
        return ex switch
        {
            TransientDependencyException { Dependency: "storage" } or Azure.RequestFailedException =>
                $"error: storage at {HostSettings.StorageAddress(configuration)} is unreachable or refused the request{Status(ex)}; check that it runs and that the connection string points at it",
            TransientDependencyException { Dependency: "kubernetes" } or k8s.Autorest.HttpOperationException =>
                $"error: the Kubernetes API server at {kubernetes} is unreachable or refused the request{Status(ex)}",
            k8s.Exceptions.KubeConfigException => $"error: no usable Kubernetes configuration ({FirstLine(ex.Message)}); pass --kubernetes-server or --kubeconfig",
            TransientDependencyException other => $"error: {other.Dependency} is unreachable",
            HttpRequestException http => $"error: a dependency is unreachable: {FirstLine(http.Message)} (Kubernetes API server {kubernetes}{(configuration["Remediation:Prometheus:Url"] is { Length: > 0 } prometheus ? ", Prometheus " + prometheus : "")})",
            _ => $"error: {FirstLine(ex.Message)}",
        };
    }

    private static string Status(Exception ex) => ex switch
    {
        Azure.RequestFailedException { Status: > 0 } rfe => $" (HTTP {rfe.Status}{(rfe.ErrorCode is { } code ? " " + code : "")})",
        k8s.Autorest.HttpOperationException { Response: { } response } => $" (HTTP {(int)response.StatusCode})",
        _ => "",
    };

    private static string FirstLine(string message)
    {
        var cut = message.IndexOfAny(['\r', '\n']);
        return cut > 0 ? message[..cut] : message;
    }
}
