using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Azure.Data.Tables;
using Remediation.Alerts;
using Remediation.Http;
using Remediation.Storage;
using Remediation.Tests.Fixtures;
using Xunit.Abstractions;

namespace Remediation.Tests.Ui;

/// <summary>
/// History past 1,000 incidents: the API, the CLI and the history page read it a page at a time (Table Storage
/// continuation), none missing or repeated; alert text is shown with its control and bidi characters escaped.
/// </summary>
[Collection(AzuriteCollection.Name)]
public sealed partial class HistoryPagingTests(AzuriteFixture storage, ITestOutputHelper log)
{
    private static readonly IncidentState[] SeedStates = [IncidentState.Succeeded, IncidentState.Failed, IncidentState.Escalated, IncidentState.Refused, IncidentState.NoAction];

    private sealed record CliResult(int ExitCode, string Out, string Err);

    private static async Task<CliResult> RunCliAsync(params string[] args)
    {
        using var stdout = new StringWriter();
        using var stderr = new StringWriter();
        var code = await Remediation.Host.Cli.RunAsync(args, stdout, stderr);
        return new CliResult(code, stdout.ToString(), stderr.ToString());
    }

    private static readonly DateTimeOffset FirstStart = new(2026, 11, 20, 0, 0, 0, TimeSpan.Zero);

    /// <summary>The id the product gives the n-th seeded alert (each starts a minute after the one before).</summary>
    private static string IdOf(int n) => IncidentIdentity.For(AlertSource.Alertmanager, "seed-" + n, FirstStart.AddMinutes(n));

    private static IncidentRecord Record(string id, int n, IncidentState state) => new()
    {
        PartitionKey = id,
        State = state,
        Source = "Alertmanager",
        AlertName = "KubePodCrashLooping",
        Fingerprint = "seed-" + n,
        StartsAt = FirstStart.AddMinutes(n),
        Namespace = "shop",
        Workload = "checkout",
        ReceivedAt = new DateTimeOffset(2026, 11, 26, 0, 0, 0, TimeSpan.Zero).AddSeconds(n),
        OutcomeReason = "seeded",
    };

    /// <summary>Summary rows written straight into the table with the store's own record type, 32 at a time.</summary>
    private static async Task<Dictionary<string, string>> SeedAsync(TableClient table, int count, int offset = 0)
    {
        var seeded = new ConcurrentDictionary<string, string>();
        await Parallel.ForEachAsync(Enumerable.Range(offset, count), new ParallelOptions { MaxDegreeOfParallelism = 32 }, async (n, ct) =>
        {
            var id = IdOf(n);
            var state = SeedStates[n % SeedStates.Length];
            await table.AddEntityAsync(Record(id, n, state), ct);
            seeded[id] = state.ToString();
        });
        return new Dictionary<string, string>(seeded);
    }

    private static void AssertEachOnce(IReadOnlyCollection<string> expected, IReadOnlyList<string> seen, string surface)
    {
        var duplicates = seen.GroupBy(id => id).Where(g => g.Count() > 1).Select(g => g.Key).ToList();
        Assert.True(duplicates.Count == 0, $"{surface}: {duplicates.Count} incidents repeated across pages, e.g. {duplicates.FirstOrDefault()}");
        var missing = expected.Except(seen).ToList();
        Assert.True(missing.Count == 0, $"{surface}: {missing.Count} incidents missing, e.g. {missing.FirstOrDefault()}");
    }

    [Fact]
    public async Task Five_thousand_incidents_are_read_through_the_api_the_cli_and_the_page_in_pages_none_missing_or_repeated()
    {
        var tableName = "paging" + Guid.NewGuid().ToString("N")[..12];
        var table = new TableServiceClient(storage.ConnectionString).GetTableClient(tableName);
        await table.CreateIfNotExistsAsync();
        var clock = Stopwatch.StartNew();
        var seeded = await SeedAsync(table, 5000);
        log.WriteLine($"seeded {seeded.Count} summary rows in {clock.Elapsed.TotalSeconds:F1}s");
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, tablePrefix: tableName);

        // API: 700 a page, following "continuation" (and checking the Link header says the same); new incidents arrive
        // while paging (after the second page): the 5,000 are each seen once, and nothing at all is seen twice. Newest
        // started first, within and across pages.
        clock.Restart();
        var apiSeen = new List<string>();
        var apiStarts = new List<DateTimeOffset>();
        var apiPages = 0;
        Dictionary<string, string>? arrived = null;
        string? url = "api/remediations?namespace=shop&limit=700";
        while (url is not null)
        {
            using var response = await host.Client.GetAsync(url);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var body = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
            var incidents = body.GetProperty("incidents");
            Assert.True(incidents.GetArrayLength() <= 700);
            apiStarts.AddRange(incidents.EnumerateArray().Select(i => i.GetProperty("startsAt").GetDateTimeOffset()));
            apiSeen.AddRange(incidents.EnumerateArray().Select(i => i.GetProperty("incidentId").GetString()!));
            apiPages++;
            if (apiPages == 2)
            {
                arrived = await SeedAsync(table, 50, offset: 5000);
            }
            if (body.TryGetProperty("continuation", out var continuation))
            {
                var link = response.Headers.GetValues("Link").Single();
                Assert.Matches("^</api/remediations\\?[^>]*>; rel=\"next\"$", link);
                Assert.Contains("continuation=" + continuation.GetString(), link, StringComparison.Ordinal);
                Assert.Contains("namespace=shop", link, StringComparison.Ordinal);
                url = link[2..link.IndexOf('>', StringComparison.Ordinal)];
            }
            else
            {
                Assert.False(response.Headers.Contains("Link"));
                url = null;
            }
        }
        var apiTime = clock.Elapsed;
        AssertEachOnce(seeded.Keys, apiSeen, "api");
        Assert.Equal(apiStarts.OrderByDescending(t => t), apiStarts);
        Assert.Equal(IdOf(4999), apiSeen[0]); // the newest of the 5,000 leads (those that arrived while paging started later still)
        Assert.All(apiSeen, id => Assert.True(seeded.ContainsKey(id) || arrived!.ContainsKey(id), $"api: unknown incident {id}"));
        Assert.True(apiPages >= 8, $"api: {apiPages} pages");
        log.WriteLine($"api: {apiSeen.Count} incidents ({apiSeen.Count - 5000} of the 50 that arrived while paging) in {apiPages} pages of 700, {apiTime.TotalSeconds:F1}s");
        var all = seeded.Concat(arrived!).ToDictionary();

        // CLI: every incident (no --limit), 1,000 a request, as JSON lines; --limit stops early.
        clock.Restart();
        var cli = await RunCliAsync("history", "--storage", storage.ConnectionString, "--table", tableName, "-o", "json");
        var cliTime = clock.Elapsed;
        Assert.True(cli.ExitCode == 0, cli.Err);
        var cliSeen = cli.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => JsonDocument.Parse(line).RootElement.GetProperty("incidentId").GetString()!).ToList();
        AssertEachOnce(all.Keys, cliSeen, "cli json");
        Assert.Equal(all.Count, cliSeen.Count);
        log.WriteLine($"cli -o json: {cliSeen.Count} lines in {(all.Count + 999) / 1000} requests of 1,000, {cliTime.TotalSeconds:F1}s");

        var table1234 = await RunCliAsync("history", "--storage", storage.ConnectionString, "--table", tableName, "--limit", "1234", "--page-size", "500");
        Assert.True(table1234.ExitCode == 0, table1234.Err);
        var rows = table1234.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.StartsWith("RECEIVED (UTC)", rows[0], StringComparison.Ordinal);
        Assert.Equal("1234 incidents", rows[^1].Trim());
        var tableIds = rows[1..^1].Select(r => r.Split("  ", StringSplitOptions.RemoveEmptyEntries)[1]).ToList();
        Assert.Equal(1234, tableIds.Count);
        Assert.Equal(1234, tableIds.Distinct().Count());
        Assert.All(tableIds, id => Assert.True(all.ContainsKey(id), id));

        // The page: 1,000 a page, following rel="next"; counts per state over all of them; "previous" goes back.
        clock.Restart();
        var pageSeen = new List<string>();
        var pageLinks = new List<string>();
        var pages = new List<string>();
        string? next = "ui?limit=1000";
        while (next is not null)
        {
            pageLinks.Add(next);
            using var response = await host.Client.GetAsync(next);
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            var html = await response.Content.ReadAsStringAsync();
            pages.Add(html);
            pageSeen.AddRange(IncidentIds().Matches(html).Select(m => m.Groups[1].Value));
            next = NextLink().Match(html) is { Success: true } m ? "ui" + WebUtility.HtmlDecode(m.Groups[1].Value) : null;
        }
        var pageTime = clock.Elapsed;
        AssertEachOnce(all.Keys, pageSeen, "page");
        Assert.Equal(6, pages.Count);
        // The counts above a page read the newest rows only (ids sort newest first): 5,050 is more than they read.
        Assert.Contains($"at least {HistoryPage.MaxCounted:N0} incidents", pages[0], StringComparison.Ordinal);
        Assert.Contains($"(counted over the newest {HistoryPage.MaxCounted:N0}; there are more)", pages[0], StringComparison.Ordinal);
        var newest = all.OrderBy(i => i.Key, StringComparer.Ordinal).Take(HistoryPage.MaxCounted).Select(i => i.Value).ToList();
        foreach (var state in SeedStates)
        {
            Assert.Contains($">{state} {newest.Count(s => s == state.ToString()):N0}</a>", pages[3], StringComparison.Ordinal);
        }
        Assert.DoesNotContain("rel=\"prev\"", pages[0], StringComparison.Ordinal);
        Assert.Contains("rel=\"first\"", pages[3], StringComparison.Ordinal);
        var previous = PreviousLink().Match(pages[3]);
        Assert.True(previous.Success, "page 4 has no previous link");
        using (var back = await host.Client.GetAsync("ui" + WebUtility.HtmlDecode(previous.Groups[1].Value)))
        {
            Assert.Equal(IncidentIds().Matches(pages[2]).Select(m => m.Groups[1].Value), IncidentIds().Matches(await back.Content.ReadAsStringAsync()).Select(m => m.Groups[1].Value));
        }
        log.WriteLine($"page: {pageSeen.Count} incidents in {pages.Count} pages of 1,000 (each with the per-state counts), {pageTime.TotalSeconds:F1}s");
    }

    [Fact]
    public async Task An_invalid_continuation_is_a_400_naming_it_on_the_api_and_the_page()
    {
        var tableName = "badcont" + Guid.NewGuid().ToString("N")[..12];
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, tablePrefix: tableName);
        var forged = Convert.ToBase64String("2\nincident\nx"u8.ToArray()).TrimEnd('=');
        foreach (var token in new[] { "not a token", "!!!!", "bm9wZQ", forged, "", new string('A', 3_000) })
        {
            using var response = await host.Client.GetAsync("api/remediations?continuation=" + Uri.EscapeDataString(token));
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            Assert.Equal(ApiProblem.ContentType, response.Content.Headers.ContentType?.MediaType);
            Assert.Equal("continuation", JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("field").GetString());
        }
        using var page = await host.Client.GetAsync("ui?continuation=bm9wZQ");
        Assert.Equal(HttpStatusCode.BadRequest, page.StatusCode);
        Assert.Contains("'continuation' is not a page position", WebUtility.HtmlDecode(await page.Content.ReadAsStringAsync()), StringComparison.Ordinal);
        using var tooLarge = await host.Client.GetAsync("api/remediations?limit=1001");
        Assert.Equal(HttpStatusCode.BadRequest, tooLarge.StatusCode);
    }

    [Fact]
    public void A_cursor_round_trips_and_anything_else_is_refused()
    {
        var store = typeof(IncidentCursor);
        Assert.True(IncidentCursor.TryParse(Convert.ToBase64String("1\n1!8!abc\n1!12!aW5jaWRlbnQ-"u8.ToArray()).TrimEnd('=').Replace('+', '-').Replace('/', '_'), out var cursor), store.Name);
        Assert.Equal("1!8!abc", cursor!.NextPartitionKey);
        Assert.Equal("1!12!aW5jaWRlbnQ-", cursor.NextRowKey);
        Assert.True(IncidentCursor.TryParse(cursor.Encode(), out var again));
        Assert.Equal(cursor, again);
        Assert.DoesNotMatch("[^A-Za-z0-9_-]", cursor.Encode());
        foreach (var bad in new[] { "1\n\nrow", "1\npk\n", "1\npk", "1\npk\nrk\nextra", "1\np k\nrk", "1\npk\nr\u0000k", "0\npk\nrk" })
        {
            var token = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(bad)).TrimEnd('=').Replace('+', '-').Replace('/', '_');
            Assert.False(IncidentCursor.TryParse(token, out _), bad);
        }
        Assert.False(IncidentCursor.TryParse(Convert.ToBase64String([0x31, 0x0a, 0xff, 0x0a, 0x41]).TrimEnd('='), out _)); // not UTF-8
    }

    [Fact]
    public async Task Control_and_bidi_characters_of_alerts_are_shown_escaped_on_the_page_and_in_the_cli()
    {
        var tableName = "ctrl" + Guid.NewGuid().ToString("N")[..12];
        var table = new TableServiceClient(storage.ConnectionString).GetTableClient(tableName);
        await table.CreateIfNotExistsAsync();
        var id = IdOf(1);
        var record = Record(id, 1, IncidentState.Escalated);
        record.AlertName = "Kube\u0007Alert";
        record.Workload = "check\u202Eout";
        record.OutcomeReason = "label 'x' value 'a\u0000b' \u2066isolated\u2069 \u001b[31mred";
        record.DiagnosisClass = "Unknown";
        record.DiagnosisSummary = "zero\u200Bwidth 😀";
        // Every column the listing shows is set, so the CLI's projection is checked against the whole view below.
        record.Severity = "warning";
        record.AlertJson = """{"labels":{"alertname":"KubeAlert"}}""";
        record.ResolvedAt = record.ReceivedAt.AddMinutes(9);
        record.DiagnosisJson = """{"evidence":[]}""";
        record.Action = "restart";
        record.PlanJson = JsonSerializer.Serialize(new Remediation.Actions.ActionPlan
        {
            Action = "restart", Target = new WorkloadTarget("shop", "checkout"), Summary = "restart Deployment shop/checkout", PriorState = [],
            Mutations = [new Remediation.Cluster.Mutation { Kind = Remediation.Cluster.MutationKind.PatchDeployment, Namespace = "shop", Name = "checkout", Description = "restart", Patch = "{}" }],
            Verify = new Remediation.Actions.VerificationSpec { RolloutComplete = true, Deployment = "checkout" },
        }, Remediation.Actions.ActionJsonContext.Default.ActionPlan);
        record.PriorStateJson = """{"replicas":3}""";
        record.Outcome = "Escalated";
        record.ActedAt = record.ReceivedAt.AddSeconds(5);
        record.CompletedAt = record.ReceivedAt.AddSeconds(30);
        record.GroupId = IdOf(0);
        await table.AddEntityAsync(record);
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false, tablePrefix: tableName);

        using var response = await host.Client.GetAsync("ui");
        var raw = await response.Content.ReadAsStringAsync();
        AssertNoRawControls(raw, "page");
        var html = WebUtility.HtmlDecode(raw); // the text as a browser shows it
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("Kube\\u0007Alert", html, StringComparison.Ordinal);
        Assert.Contains("shop/check\\u202eout", html, StringComparison.Ordinal);
        Assert.Contains("a\\u0000b", html, StringComparison.Ordinal);
        Assert.Contains("\\u2066isolated\\u2069 \\u001b[31mred", html, StringComparison.Ordinal);
        Assert.Contains("zero\\u200bwidth 😀", html, StringComparison.Ordinal); // an emoji is not escaped (HTML-encoded only)

        var cliTable = await RunCliAsync("history", "--storage", storage.ConnectionString, "--table", tableName);
        Assert.True(cliTable.ExitCode == 0, cliTable.Err);
        Assert.Contains("Kube\\u0007Alert", cliTable.Out, StringComparison.Ordinal);
        Assert.Contains("shop/check\\u202eout", cliTable.Out, StringComparison.Ordinal);
        Assert.Contains("a\\u0000b", cliTable.Out, StringComparison.Ordinal);
        Assert.Contains("\\u001b[31mred", cliTable.Out, StringComparison.Ordinal);
        AssertNoRawControls(cliTable.Out, "cli table");

        var cliJson = await RunCliAsync("history", "--storage", storage.ConnectionString, "--table", tableName, "-o", "json");
        Assert.True(cliJson.ExitCode == 0, cliJson.Err);
        var line = Assert.Single(cliJson.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("Kube\\u0007Alert", line, StringComparison.Ordinal);
        Assert.Contains("check\\u202Eout", line, StringComparison.Ordinal); // JSON's own escape (upper-case hex)
        AssertNoRawControls(line, "cli json");
        Assert.Equal(record.OutcomeReason, JsonDocument.Parse(line).RootElement.GetProperty("outcomeReason").GetString()); // the data is intact
        var view = JsonSerializer.Serialize(IncidentView.From(record), WebJsonContext.Default.IncidentView);
        Assert.Equal(view, line); // every column the view shows is read
        using var api = await host.Client.GetAsync("api/remediations");
        Assert.Equal(view, JsonDocument.Parse(await api.Content.ReadAsStringAsync()).RootElement.GetProperty("incidents")[0].GetRawText());
    }

    private static void AssertNoRawControls(string text, string surface)
    {
        var raw = text.Where(c => c is not ('\n' or '\r') && Remediation.Text.DisplayText.IsUnsafe(c)).Select(c => $"U+{(int)c:X4}").Distinct().ToList();
        Assert.True(raw.Count == 0, $"{surface} shows raw {string.Join(", ", raw)}");
    }

    [GeneratedRegex("<code class=\"incident-id\">([^<]+)</code>")]
    private static partial Regex IncidentIds();

    [GeneratedRegex("<a rel=\"next\" href=\"([^\"]+)\"")]
    private static partial Regex NextLink();

    [GeneratedRegex("<a rel=\"prev\" href=\"([^\"]+)\"")]
    private static partial Regex PreviousLink();
}
