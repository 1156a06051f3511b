using System.Net;
using System.Text;
using System.Text.Json.Nodes;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>
/// The controller loop lets API requests waiting for the cluster's lock in between objects (as a real API server answers
/// requests while its controllers work), and what those requests change meanwhile is reconciled like any other write:
/// nothing deleted comes back, every Deployment ends with its replicas.
/// </summary>
public sealed class ControllerLoopTests
{
    [Fact]
    public async Task Requests_made_while_the_loop_yields_are_reconciled()
    {
        const int Deployments = 150;
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions
        {
            ControllerInterval = TimeSpan.FromMilliseconds(50), PodReadyAfter = TimeSpan.FromMilliseconds(100), ReconcileOnWrite = false,
        });
        var yaml = new StringBuilder("name: loop\nnamespaces: [loop]\ndeployments:\n");
        for (var i = 0; i < Deployments; i++)
        {
            yaml.Append("  - { name: app-").Append(i).Append(", namespace: loop, replicas: 1, image: web:1 }\n");
        }
        cluster.LoadScenario(Scenario.Parse(yaml.ToString()));
        await cluster.ReconcileAsync();
        using var http = new HttpClient { BaseAddress = cluster.BaseAddress, Timeout = TimeSpan.FromSeconds(60) };
        using var done = new CancellationTokenSource(TimeSpan.FromSeconds(120));

        // Readers keep requests waiting on the lock while every Deployment is scaled to 2 and its first pod deleted.
        var writing = true;
        var readers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
        {
            while (Volatile.Read(ref writing) || cluster.GateStatistics().ControllerYields == 0)
            {
                (await http.GetAsync(new Uri("api/v1/namespaces/loop/pods", UriKind.Relative), done.Token)).EnsureSuccessStatusCode();
            }
        })).ToList();
        var deleted = new HashSet<string>(StringComparer.Ordinal);
        for (var i = 0; i < Deployments; i++)
        {
            var first = cluster.ListObjects("pods", "loop").First(p => p.Str("metadata", "labels", "app") == $"app-{i}").Str("metadata", "name")!;
            using var scale = new StringContent("""{"spec":{"replicas":2}}""", Encoding.UTF8, "application/merge-patch+json");
            (await http.PatchAsync(new Uri($"apis/apps/v1/namespaces/loop/deployments/app-{i}", UriKind.Relative), scale, done.Token)).EnsureSuccessStatusCode();
            var delete = await http.DeleteAsync(new Uri($"api/v1/namespaces/loop/pods/{first}", UriKind.Relative), done.Token);
            Assert.True(delete.IsSuccessStatusCode || delete.StatusCode == HttpStatusCode.NotFound, $"delete pod {first}: {delete.StatusCode}");
            deleted.Add(first);
        }
        Volatile.Write(ref writing, false);
        await Task.WhenAll(readers);

        Assert.True(cluster.GateStatistics().ControllerYields > 0);
        while (!Settled(cluster.ListObjects("pods", "loop"), Deployments, deleted))
        {
            await cluster.ReconcileAsync(done.Token);
            await Task.Delay(TimeSpan.FromMilliseconds(50), done.Token);
        }
        var pods = cluster.ListObjects("pods", "loop");
        Assert.Equal(2 * Deployments, pods.Count);
        Assert.DoesNotContain(pods, p => deleted.Contains(p.Str("metadata", "name")!));
        Assert.All(Enumerable.Range(0, Deployments), i => Assert.Equal(2, pods.Count(p => p.Str("metadata", "labels", "app") == $"app-{i}")));
        Assert.Null(cluster.LastControllerError);
    }

    /// <summary>Two Ready pods per Deployment, none of the deleted ones.</summary>
    private static bool Settled(IReadOnlyList<JsonObject> pods, int deployments, HashSet<string> deleted) =>
        pods.Count == 2 * deployments
        && pods.All(p => !deleted.Contains(p.Str("metadata", "name")!)
            && (p["status"]?["conditions"] as JsonArray)?.Any(c => c.Str("type") == "Ready" && c.Str("status") == "True") == true);
}
