using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using CsCheck;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Security;

/// <summary>
/// The same mutations over HTTP against the standalone host on real Azurite: no 5xx at all, and every non-2xx is an
/// application/problem+json with a detail. What the parser accepts must also be storable (claim, queue).
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed class HttpFuzzTests(AzuriteFixture storage, ITestOutputHelper output)
{
    public const int Requests = 2_100;

    private static readonly (string Route, string File, string MediaType)[] Goldens =
    [
        ("api/alerts/alertmanager", "alertmanager/kube-pod-crashlooping.json", "application/json"),
        ("api/alerts/alertmanager", "alertmanager/resolved-and-watchdog.json", "application/json"),
        ("api/alerts/azuremonitor", "azuremonitor/metric-alert-fired.json", "application/json"),
        ("api/alerts/azuremonitor", "azuremonitor/log-alert-v2-oomkilled.json", "application/json"),
        ("api/alerts/eventgrid", "eventgrid/alert-eventgrid-schema.json", "application/json"),
        ("api/alerts/eventgrid", "eventgrid/alerts-cloudevents-batch.json", "application/cloudevents-batch+json"),
    ];

    [Fact]
    public async Task Two_thousand_mutated_bodies_over_http_give_no_5xx_and_problem_details_for_every_refusal()
    {
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false);
        var bodies = Goldens.Select(g => File.ReadAllBytes(RepoPaths.Payload(g.File))).ToArray();
        // CsCheck generates the mutations; the requests are then sent 8 at a time.
        var mutations = PayloadMutator.Gen(Goldens.Length).Array[Requests].Single();
        var statuses = new ConcurrentDictionary<int, int>();
        var failures = new ConcurrentQueue<string>();
        var clock = Stopwatch.StartNew();
        await Parallel.ForEachAsync(mutations, new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (mutation, ct) =>
        {
            var (route, _, mediaType) = Goldens[mutation.Golden];
            var body = PayloadMutator.Apply(bodies[mutation.Golden], mutation);
            using var content = new ByteArrayContent(body);
            content.Headers.ContentType = MediaTypeHeaderValue.Parse(mediaType);
            using var response = await host.Client.PostAsync(route, content, ct);
            var status = (int)response.StatusCode;
            statuses.AddOrUpdate(status, 1, (_, n) => n + 1);
            var text = await response.Content.ReadAsStringAsync(ct);
            if (status >= 500)
            {
                failures.Enqueue($"{status} on {route} ({mutation}): {text} body: {PayloadMutator.Preview(body)}");
            }
            else if (status >= 300)
            {
                var problem = response.Content.Headers.ContentType?.MediaType == "application/problem+json"
                    ? JsonDocument.Parse(text).RootElement
                    : default;
                if (problem.ValueKind != JsonValueKind.Object || !problem.TryGetProperty("detail", out var detail) || string.IsNullOrWhiteSpace(detail.GetString()))
                {
                    failures.Enqueue($"{status} without problem details on {route}: {text}");
                }
            }
        });
        var line = $"http fuzz: {Requests} mutated bodies over 3 endpoints in {clock.Elapsed.TotalSeconds:0.0}s; status codes " +
            string.Join(", ", statuses.OrderBy(s => s.Key).Select(s => $"{s.Key}={s.Value}")) +
            $"; 5xx {statuses.Where(s => s.Key >= 500).Sum(s => s.Value)}; refusals without problem details {failures.Count(f => !f.StartsWith('5'))}";
        output.WriteLine(line);
        Console.WriteLine("SECURITY: " + line);
        Assert.True(failures.IsEmpty, string.Join("\n", failures.Take(10)));
        Assert.Equal(Requests, statuses.Values.Sum());
        Assert.True(statuses.GetValueOrDefault(400) > Requests / 10);
    }
}
