using System.Globalization;
using System.Net;
using System.Text;
using Azure.Data.Tables;
using Remediation.ClusterSimulator;
using Remediation.Storage;
using Xunit.Abstractions;

namespace Remediation.Tests.Reliability;

/// <summary>Shared pieces of the reliability suite: generated scenarios, alerts, senders, counting.</summary>
public static class ReliabilitySupport
{
    public static readonly DateTimeOffset StartsAt = new(2026, 11, 26, 3, 0, 0, TimeSpan.Zero);

    /// <summary>
    /// A scenario with <paramref name="count"/> deployments in namespace shop, one replica each. Bad-rollout ones
    /// (even indexes when <paramref name="mixed"/>) crash-loop on a new image with a healthy revision to roll back to;
    /// the others crash-loop on their only revision, or are healthy when <paramref name="healthy"/>.
    /// </summary>
    public static string WriteScenario(int count, bool mixed = false, bool healthy = false, int replicas = 1)
    {
        var yaml = new StringBuilder()
            .Append("name: reliability\nnamespaces: [shop]\nbehaviours:\n")
            .Append("  registry.example/app:1.0.0: { mode: healthy, errorRatio: 0.001, p50Ms: 20, p99Ms: 90 }\n")
            .Append("  registry.example/app:2.0.0: { mode: ").Append(healthy ? "healthy" : "crashloop, crashAfter: 20s").Append(" }\n")
            .Append("deployments:\n");
        for (var i = 0; i < count; i++)
        {
            yaml.Append("  - name: ").Append(Deployment(i)).Append('\n')
                .Append("    namespace: shop\n    replicas: ").Append(replicas).Append("\n    image: registry.example/app:2.0.0\n    createdAgo: 3h\n");
            if (mixed && i % 2 == 0)
            {
                yaml.Append("    rolledOutAgo: 10m\n    history:\n      - image: registry.example/app:1.0.0\n");
            }
        }
        var path = Path.Combine(Path.GetTempPath(), $"reliability-{Guid.NewGuid():N}.yaml");
        File.WriteAllText(path, yaml.ToString());
        return path;
    }

    public static string Deployment(int i) => "app-" + i.ToString("D3", CultureInfo.InvariantCulture);

    /// <summary>An Alertmanager webhook body (version 4) with one firing alert for shop/{deployment}.</summary>
    public static string AlertmanagerBody(string ns, string deployment, string fingerprint, string alertName = "KubePodCrashLooping") => $$"""
        {"version":"4","groupKey":"{}:{alertname=\"{{alertName}}\"}","status":"firing","receiver":"remediation","truncatedAlerts":0,
         "groupLabels":{"alertname":"{{alertName}}"},"commonLabels":{},"commonAnnotations":{},"externalURL":"http://alertmanager:9093",
         "alerts":[{"status":"firing","labels":{"alertname":"{{alertName}}","namespace":"{{ns}}","deployment":"{{deployment}}","severity":"critical"},
           "annotations":{"summary":"{{deployment}} is crash looping"},"startsAt":"2026-11-26T03:00:00Z","endsAt":"0001-01-01T00:00:00Z",
           "generatorURL":"http://prometheus:9090/graph","fingerprint":"{{fingerprint}}"}]}
        """;

    /// <summary>All rows of an incident's partition.</summary>
    public static async Task<List<TableEntity>> RowsAsync(TableClient table, string incidentId)
    {
        var rows = new List<TableEntity>();
        await foreach (var row in table.QueryAsync<TableEntity>(e => e.PartitionKey == incidentId))
        {
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>Successful (2xx) mutating calls the simulator saw, per object name.</summary>
    public static Dictionary<string, int> AppliedMutations(SimulatedCluster cluster) =>
        cluster.Requests.Where(r => r.IsMutating && r.StatusCode is >= 200 and < 300)
            .GroupBy(r => r.Name ?? "")
            .ToDictionary(g => g.Key, g => g.Count(), StringComparer.Ordinal);

    public static void Report(ITestOutputHelper output, string line)
    {
        output.WriteLine(line);
        Console.WriteLine("RELIABILITY: " + line);
    }

    /// <summary>Terminal for the suite: a recorded end state (DryRun/NoAction included where the policy says so).</summary>
    public static bool IsSettled(IncidentState state) => IncidentLifecycle.IsTerminal(state);
}

/// <summary>
/// A webhook sender like Alertmanager: POSTs, and on 503 (or no answer) waits Retry-After and sends again.
/// Counts what it saw.
/// </summary>
public sealed class RetryingSender(HttpClient client, int maxAttempts = 20)
{
    private int _sent;
    private int _unavailable;
    private int _connectionErrors;
    private int _other5xx;

    public int Sent => _sent;
    public int Unavailable => _unavailable;
    public int ConnectionErrors => _connectionErrors;
    public int Other5xx => _other5xx;

    public async Task<HttpStatusCode> SendAsync(string route, string body, string mediaType = "application/json", CancellationToken cancellationToken = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            Interlocked.Increment(ref _sent);
            TimeSpan wait;
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, mediaType);
                using var response = await client.PostAsync(route, content, cancellationToken);
                if (response.StatusCode != HttpStatusCode.ServiceUnavailable)
                {
                    if ((int)response.StatusCode >= 500)
                    {
                        Interlocked.Increment(ref _other5xx);
                    }
                    return response.StatusCode;
                }
                Interlocked.Increment(ref _unavailable);
                wait = response.Headers.RetryAfter?.Delta ?? TimeSpan.FromSeconds(1);
            }
            catch (HttpRequestException)
            {
                Interlocked.Increment(ref _connectionErrors);
                wait = TimeSpan.FromSeconds(1);
            }
            if (attempt >= maxAttempts)
            {
                throw new InvalidOperationException($"gave up after {attempt} attempts on {route}");
            }
            await Task.Delay(wait, cancellationToken);
        }
    }
}
