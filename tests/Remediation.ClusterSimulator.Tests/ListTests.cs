using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Remediation.ClusterSimulator.Tests;

/// <summary>
/// Lists: selectors answered through the store's index give what a scan of every object gives, and <c>limit</c> with
/// <c>continue</c> pages through all of it, as the API server does (kubectl reads in chunks of 500 by default).
/// </summary>
public sealed class ListTests
{
    private static readonly string[] Keys = ["app", "tier", "team"];
    private static readonly string[] Values = ["a", "b", "c", ""];

    [Fact]
    public async Task Kubectl_reads_every_pod_and_event_in_chunks()
    {
        await using var h = await Harness.StartAsync("bad-rollout.yaml", fakeTime: true);
        var pods = h.Cluster.ListObjects("pods", "shop").Select(p => "pod/" + p.Str("metadata", "name")).Order(StringComparer.Ordinal).ToList();
        Assert.True(pods.Count > 3, $"the scenario has {pods.Count} pods in shop");
        var chunked = (await h.KubectlAsync("-n", "shop", "get", "pods", "--chunk-size=2", "-o", "name")).EnsureSuccess().StdOut;
        Assert.Equal(pods, chunked.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList());

        var pod = pods[0]["pod/".Length..];
        var own = h.Cluster.ListObjects("events", "shop").Where(e => e.Str("involvedObject", "name") == pod).Select(e => "event/" + e.Str("metadata", "name")).Order(StringComparer.Ordinal).ToList();
        Assert.NotEmpty(own);
        var selected = (await h.KubectlAsync("-n", "shop", "get", "events", "--field-selector", "involvedObject.name=" + pod, "--chunk-size=1", "-o", "name")).EnsureSuccess().StdOut;
        Assert.Equal(own, selected.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal).ToList());
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Selected_pages_hold_exactly_the_objects_a_scan_selects(int seed)
    {
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions { Seed = seed });
        using var http = new HttpClient { BaseAddress = cluster.BaseAddress };
        var random = new Random(seed);
        var labels = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        for (var i = 0; i < 120; i++)
        {
            var name = $"cm-{random.Next(1000):000}-{i}";
            var own = Keys.Where(_ => random.Next(3) > 0).ToDictionary(k => k, _ => Values[random.Next(Values.Length)], StringComparer.Ordinal);
            labels[name] = own;
            var body = new JsonObject { ["apiVersion"] = "v1", ["kind"] = "ConfigMap", ["metadata"] = new JsonObject { ["name"] = name, ["labels"] = Labels(own) } };
            (await http.PostAsJsonAsync("api/v1/namespaces/default/configmaps", body)).EnsureSuccessStatusCode();
            if (random.Next(4) == 0)
            {
                // A relabelled object must leave its old label's index entry.
                own[Keys[0]] = Values[random.Next(Values.Length)];
                var patch = new StringContent($"{{\"metadata\":{{\"labels\":{{\"{Keys[0]}\":\"{own[Keys[0]]}\"}}}}}}", System.Text.Encoding.UTF8, "application/merge-patch+json");
                (await http.PatchAsync($"api/v1/namespaces/default/configmaps/{name}", patch)).EnsureSuccessStatusCode();
            }
        }
        for (var q = 0; q < 40; q++)
        {
            var (selector, matches) = RandomSelector(random);
            var expected = labels.Where(p => matches(p.Value)).Select(p => p.Key).Order(StringComparer.Ordinal).ToList();
            var limit = random.Next(0, 30);
            var read = await ReadAllAsync(http, $"api/v1/namespaces/default/configmaps?labelSelector={Uri.EscapeDataString(selector)}", limit);
            Assert.True(expected.SequenceEqual(read), $"seed {seed}, selector '{selector}', limit {limit}: expected {expected.Count} [{string.Join(",", expected)}], read {read.Count} [{string.Join(",", read)}]");
        }
    }

    [Fact]
    public async Task A_continue_token_not_issued_by_the_server_is_refused()
    {
        await using var cluster = await SimulatedCluster.StartAsync(new SimulatorOptions());
        using var http = new HttpClient { BaseAddress = cluster.BaseAddress };
        using var response = await http.GetAsync("api/v1/namespaces/default/configmaps?limit=1&continue=bm90LWEtdG9rZW4");
        Assert.Equal(400, (int)response.StatusCode);
        using var negative = await http.GetAsync("api/v1/namespaces/default/configmaps?limit=-1");
        Assert.Equal(400, (int)negative.StatusCode);
    }

    private static JsonObject Labels(Dictionary<string, string> labels)
    {
        var o = new JsonObject();
        foreach (var (k, v) in labels)
        {
            o[k] = v;
        }
        return o;
    }

    private static async Task<List<string>> ReadAllAsync(HttpClient http, string path, int limit)
    {
        var names = new List<string>();
        string? token = null;
        for (var page = 0; page < 1000; page++)
        {
            var url = path + (limit > 0 ? $"&limit={limit}" : "") + (token is null ? "" : "&continue=" + Uri.EscapeDataString(token));
            var list = JsonNode.Parse(await http.GetStringAsync(url))!;
            var items = list["items"]!.AsArray();
            Assert.True(limit == 0 || items.Count <= limit, $"a page of {items.Count} items for limit {limit}");
            names.AddRange(items.Select(i => i!["metadata"]!["name"]!.GetValue<string>()));
            token = list["metadata"]?["continue"]?.GetValue<string>();
            if (token is null)
            {
                return names;
            }
        }
        Assert.Fail("paging did not end");
        return names;
    }

    /// <summary>A selector of one to three terms (equality, inequality, set, existence) and what it means.</summary>
    private static (string Text, Func<Dictionary<string, string>, bool> Matches) RandomSelector(Random random)
    {
        var terms = new List<string>();
        var tests = new List<Func<Dictionary<string, string>, bool>>();
        for (var t = random.Next(1, 4); t > 0; t--)
        {
            var key = Keys[random.Next(Keys.Length)];
            var value = Values[random.Next(Values.Length)];
            var (one, other) = (Values[random.Next(Values.Length - 1)], Values[random.Next(Values.Length - 1)]);
            switch (random.Next(6))
            {
                case 0:
                    terms.Add($"{key}={value}");
                    tests.Add(l => l.TryGetValue(key, out var v) && v == value);
                    break;
                case 1:
                    terms.Add($"{key}!={value}");
                    tests.Add(l => !l.TryGetValue(key, out var v) || v != value);
                    break;
                case 2:
                    terms.Add($"{key} in ({one},{other})");
                    tests.Add(l => l.TryGetValue(key, out var v) && (v == one || v == other));
                    break;
                case 3:
                    terms.Add($"{key} notin ({one},{other})");
                    tests.Add(l => !l.TryGetValue(key, out var v) || (v != one && v != other));
                    break;
                case 4:
                    terms.Add(key);
                    tests.Add(l => l.ContainsKey(key));
                    break;
                default:
                    terms.Add("!" + key);
                    tests.Add(l => !l.ContainsKey(key));
                    break;
            }
        }
        return (string.Join(",", terms), l => tests.All(test => test(l)));
    }
}
