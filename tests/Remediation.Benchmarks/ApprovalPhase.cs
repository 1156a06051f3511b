using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Remediation.ClusterSimulator;
using Remediation.Storage;

namespace Remediation.Benchmarks;

public sealed record ApprovalFigures(int Incidents, int Approved, int Mutated, Samples AnswerMs, Samples ToMutationMs, Samples AwaitingMs);

/// <summary>Review mode: an approval answered through the API → the approved mutation acknowledged by the cluster.</summary>
public static partial class Phases
{
    private const string Approver = "alice@example.com";
    private const string ApproverPassword = "bench-approver-password";

    /// <summary>The end-to-end phase's policy (restart crash loops, no cooldown), in approve mode: alice answers each request.</summary>
    private static readonly string ApprovalPolicy = Hosts.ActingPolicy
        .Replace("rules:", $"approval:\n  deadline: 30m\n  approvers: [{Approver}]\nrules:", StringComparison.Ordinal)
        .Replace("    action: restart", "    action: restart\n    mode: approve", StringComparison.Ordinal);

    private static string ApprovalName(int i) => string.Create(CultureInfo.InvariantCulture, $"approve-{i:000}");

    /// <summary>
    /// One incident at a time: alert → AwaitingApproval (polled), then POST /api/remediations/{id}/approve as alice, then
    /// until the simulator has recorded the mutating call on that Deployment (polled every millisecond). Its own
    /// simulator, so the Deployments are crash looping whatever the other phases did.
    /// </summary>
    public static async Task<ApprovalFigures> ApprovalAsync(AzuriteProcess azurite, BenchSettings s)
    {
        await using var cluster = await StartApprovalClusterAsync(s.ApprovalIncidents).ConfigureAwait(false);
        var policy = await Hosts.WritePolicyAsync("approval", ApprovalPolicy).ConfigureAwait(false);
        var settings = Hosts.Settings(azurite.ConnectionString, cluster.BaseAddress, "approval" + Environment.ProcessId, policy, worker: true);
        settings["Remediation:Auth:BasicUsername"] = Approver;
        settings["Remediation:Auth:BasicPasswords:0"] = ApproverPassword;
        var (app, baseAddress) = await Hosts.StartInProcessAsync(settings).ConfigureAwait(false);
        var figures = new ApprovalFigures(s.ApprovalIncidents, 0, 0, new Samples(), new Samples(), new Samples());
        try
        {
            using var sender = Hosts.Client(baseAddress);
            using var alice = Hosts.Client(baseAddress);
            alice.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Approver}:{ApproverPassword}")));
            var store = app.Services.GetRequiredService<IncidentStore>();
            var approved = 0;
            var mutated = 0;
            // Index -1 is a warm-up (connections, JIT), not reported.
            for (var i = -1; i < s.ApprovalIncidents; i++)
            {
                var (ok, toMutation) = await ApproveOneAsync(cluster, sender, alice, store, i + 1, i >= 0 ? figures : null).ConfigureAwait(false);
                approved += ok && i >= 0 ? 1 : 0;
                if (toMutation is { } ms && i >= 0)
                {
                    mutated++;
                    figures.ToMutationMs.Add(ms);
                }
            }
            figures = figures with { Approved = approved, Mutated = mutated };
            Console.WriteLine($"    {approved}/{s.ApprovalIncidents} approved, {mutated} mutated; answer p50 {figures.AnswerMs.Percentile(50):F1} ms; approve → mutation p50 {figures.ToMutationMs.Percentile(50):F1} ms, p99 {figures.ToMutationMs.Percentile(99):F1} ms");
        }
        finally
        {
            await app.StopAsync().ConfigureAwait(false);
            await app.DisposeAsync().ConfigureAwait(false);
            File.Delete(policy);
        }
        return figures;
    }

    private static async Task<(bool Approved, double? ToMutationMs)> ApproveOneAsync(SimulatedCluster cluster, HttpClient sender, HttpClient alice, IncidentStore store, int index, ApprovalFigures? figures)
    {
        var name = ApprovalName(index);
        var posted = Clock.Now;
        var body = Payloads.Alertmanager([new Payloads.AlertSpec(BenchCluster.Namespace, name, Payloads.Fingerprint(300, index), index)]);
        var (sent, incidents) = await LoadGen.SendAsync(sender, body).ConfigureAwait(false);
        if (!sent || incidents.Count != 1)
        {
            Console.WriteLine($"    {name}: alert not accepted");
            return (false, null);
        }
        var id = incidents[0];
        var awaiting = await PollAsync(async () => (await store.GetAsync(id).ConfigureAwait(false))?.State == IncidentState.AwaitingApproval, TimeSpan.FromSeconds(30), 5).ConfigureAwait(false);
        if (!awaiting)
        {
            Console.WriteLine($"    {name}: not awaiting approval ({(await store.GetAsync(id).ConfigureAwait(false))?.State})");
            return (false, null);
        }
        figures?.AwaitingMs.Add(Clock.Ms(posted, Clock.Now));
        var started = Clock.Now;
        using var answer = await alice.PostAsync(new Uri($"api/remediations/{id}/approve", UriKind.Relative), new StringContent("{}", Encoding.UTF8, "application/json")).ConfigureAwait(false);
        figures?.AnswerMs.Add(Clock.Ms(started, Clock.Now));
        if (answer.StatusCode != HttpStatusCode.OK)
        {
            Console.WriteLine($"    {name}: approve answered {(int)answer.StatusCode} {await answer.Content.ReadAsStringAsync().ConfigureAwait(false)}");
            return (false, null);
        }
        var mutated = await PollAsync(() => Task.FromResult(cluster.Requests.Any(r => r.IsMutating && r.Name == name)), TimeSpan.FromSeconds(30), 1).ConfigureAwait(false);
        return (true, mutated ? Clock.Ms(started, Clock.Now) : null);
    }

    private static async Task<bool> PollAsync(Func<Task<bool>> done, TimeSpan timeout, int everyMs)
    {
        var started = Clock.Now;
        while (!await done().ConfigureAwait(false))
        {
            if (Clock.Ms(started, Clock.Now) > timeout.TotalMilliseconds)
            {
                return false;
            }
            await Task.Delay(everyMs).ConfigureAwait(false);
        }
        return true;
    }

    private static async Task<SimulatedCluster> StartApprovalClusterAsync(int count)
    {
        var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions()).ConfigureAwait(false);
        var yaml = new StringBuilder()
            .Append("name: approval\nnamespaces: [").Append(BenchCluster.Namespace).Append("]\nbehaviours:\n")
            .Append("  ").Append(BenchCluster.Image).Append(": { mode: crashloop, crashAfter: 30m }\ndeployments:\n");
        foreach (var name in Enumerable.Range(0, count + 1).Select(ApprovalName))
        {
            yaml.Append("  - { name: ").Append(name).Append(", namespace: ").Append(BenchCluster.Namespace)
                .Append(", replicas: 1, image: ").Append(BenchCluster.Image).Append(", createdAgo: 2h }\n");
        }
        cluster.LoadScenario(Scenario.Parse(yaml.ToString()));
        await cluster.ReconcileAsync().ConfigureAwait(false);
        return cluster;
    }
}
