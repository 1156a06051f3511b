using System.Diagnostics;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;
using static Remediation.Tests.Approvals.ReviewSupport;

namespace Remediation.Tests.EndToEnd;

/// <summary>
/// Review mode behind real monitoring: Prometheus fires, Alertmanager delivers to the standalone host, the rollback
/// waits in AwaitingApproval without touching the cluster, and a person approves with the built `remediation approve`
/// CLI; then exactly the recorded plan is applied, verified, and recorded with the approver and the comment.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class ReviewModeEndToEndTests(AzuriteFixture storage, ITestOutputHelper output)
{
    private const string Password = "e2e-approver-password";
    private const string Comment = "e2e: checked the diff";

    /// <summary>The end-to-end test's policy with its rollback in approve mode: alice answers.</summary>
    public static readonly string Policy = PrometheusAlertmanagerEndToEndTests.Policy
        .Replace("rules:", $"approval:\n  deadline: 30m\n  approvers: [{Approver}]\nrules:", StringComparison.Ordinal)
        .Replace("    action: rollback", "    action: rollback\n    mode: approve", StringComparison.Ordinal);

    [Fact]
    public async Task Alertmanager_delivers_the_rollback_waits_for_approval_and_the_CLI_approval_applies_exactly_the_plan()
    {
        await using var cluster = await SimulatedCluster.StartAsync();
        cluster.LoadScenarioFile(RepoPaths.Scenario("bad-rollout.yaml"));
        await cluster.ReconcileAsync();
        await using var stack = await MonitoringStack.StartAsync(cluster, storage.ConnectionString, Policy, PrometheusAlertmanagerEndToEndTests.Rules,
            p => new Dictionary<string, string?>
            {
                ["Remediation:Prometheus:Url"] = p.BaseAddress.ToString(),
                ["Remediation:Auth:BasicUsername"] = Approver,
                ["Remediation:Auth:BasicPasswords:0"] = Password,
            });
        var (host, alertmanager) = (stack.Host, stack.Alertmanager);

        var clock = Stopwatch.StartNew();
        IncidentRecord? awaiting = null;
        while (clock.Elapsed < TimeSpan.FromSeconds(120))
        {
            awaiting = (await host.Store.ListAsync(new IncidentQuery(Namespace: "shop")))
                .FirstOrDefault(i => i.Action == "rollback" && i.State == IncidentState.AwaitingApproval);
            if (awaiting is not null)
            {
                break;
            }
            await Task.Delay(200);
        }
        Assert.True(awaiting is not null, $"no rollback awaits approval; alertmanager log: {alertmanager.Log}");
        Assert.Equal("BadRollout", awaiting.DiagnosisClass);
        Assert.DoesNotContain(cluster.Requests, r => r.IsMutating);
        var plan = PlanOf(awaiting);
        Assert.NotEmpty(plan.Mutations);
        Report($"rollback of checkout awaits approval after {clock.Elapsed.TotalSeconds:F1}s, plan {awaiting.PlanDigest}");

        var (exit, stdout, stderr) = await RunCliAsync(host.BaseAddress, "approve", awaiting.IncidentId, "--comment", Comment);
        Assert.True(exit == 0, $"remediation approve exited {exit}: {stdout} {stderr}");
        Assert.Contains($"approved: incident {awaiting.IncidentId}", stdout, StringComparison.Ordinal);

        var done = await host.WaitForStateAsync(awaiting.IncidentId, TimeSpan.FromSeconds(120), IncidentState.Succeeded, IncidentState.Failed, IncidentState.Escalated);
        Assert.Equal(IncidentState.Succeeded, done.State);
        Assert.Equal(("approve", Approver, Comment), (done.AnswerVerb, done.AnsweredBy, done.AnswerComment));
        Assert.Equal(awaiting.PlanDigest, done.PlanDigest);
        AssertAppliedExactly(plan, cluster.Requests);
        Assert.Single(cluster.Requests, r => r.IsMutating && r.Resource == "deployments" && r.Name == "checkout");
        Assert.Equal("registry.example/checkout:1.4.2",
            cluster.GetObject("deployments", "shop", "checkout")!["spec"]!["template"]!["spec"]!["containers"]![0]!["image"]!.GetValue<string>());
        Report($"approved with the CLI by {done.AnsweredBy}; outcome {done.State} ({done.OutcomeReason}); total {clock.Elapsed.TotalSeconds:F0}s");
    }

    /// <summary>Runs the built CLI (the test output's `remediation` executable) as the approver, by Basic credentials from the environment.</summary>
    private static async Task<(int Exit, string Out, string Err)> RunCliAsync(Uri hostAddress, params string[] args)
    {
        var start = new ProcessStartInfo(Path.Combine(AppContext.BaseDirectory, OperatingSystem.IsWindows() ? "remediation.exe" : "remediation"))
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }
        start.Environment["REMEDIATION_URL"] = hostAddress.ToString();
        start.Environment["REMEDIATION_USER"] = Approver;
        start.Environment["REMEDIATION_PASSWORD"] = Password;
        start.Environment.Remove("REMEDIATION_TOKEN");
        using var process = Process.Start(start)!;
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var stdout = process.StandardOutput.ReadToEndAsync(timeout.Token);
        var stderr = process.StandardError.ReadToEndAsync(timeout.Token);
        try
        {
            await process.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"remediation {string.Join(' ', args)} did not exit within 60s");
        }
        return (process.ExitCode, await stdout, await stderr);
    }

    private void Report(string line)
    {
        output.WriteLine(line);
        Console.WriteLine("E2E: " + line);
    }
}
