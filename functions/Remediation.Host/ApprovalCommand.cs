using System.CommandLine;
using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Http;

namespace Remediation.Host;

/// <summary>
/// <c>remediation approve|reject ID [--comment TEXT]</c>: answers a request for approval through the host's API, as the
/// user the host authenticates (REMEDIATION_USER + REMEDIATION_PASSWORD for Basic, or REMEDIATION_TOKEN for an Entra ID
/// bearer token); the host records that identity. Exit codes: 0 answered, 1 refused or failed, 2 bad input.
/// </summary>
public static class ApprovalCommand
{
    public const string UrlVariable = "REMEDIATION_URL";

    public static Command Create(string verb, TextWriter output, TextWriter errors, Func<string, string?>? environment = null)
    {
        var env = environment ?? Environment.GetEnvironmentVariable;
        var id = new Argument<string>("incident-id") { Description = "The incident awaiting approval (see: remediation history --state AwaitingApproval)" };
        var comment = new Option<string>("--comment") { Description = "Why (recorded with the answer)" };
        var url = new Option<string>("--url") { Description = $"The host's address (default: {UrlVariable}, else {StandaloneHost.DefaultUrl})" };
        var user = new Option<string>("--user") { Description = "Basic user name (default: REMEDIATION_USER); the password comes from REMEDIATION_PASSWORD" };
        var command = new Command(verb, $"{(verb == "approve" ? "Approve" : "Reject")} the plan an incident awaits approval for") { id, comment, url, user };
        command.SetAction((parse, ct) => RunAsync(verb, parse.GetValue(id)!, parse.GetValue(comment), parse.GetValue(url) ?? env(UrlVariable) ?? StandaloneHost.DefaultUrl,
            Credentials(parse.GetValue(user) ?? env("REMEDIATION_USER"), env("REMEDIATION_PASSWORD"), env("REMEDIATION_TOKEN")), output, errors, ct));
        return command;
    }

    private static AuthenticationHeaderValue? Credentials(string? user, string? password, string? token) =>
        !string.IsNullOrEmpty(user) && password is not null
            ? new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{user}:{password}")))
            : !string.IsNullOrEmpty(token) ? new AuthenticationHeaderValue("Bearer", token) : null;

    private static async Task<int> RunAsync(string verb, string id, string? comment, string url, AuthenticationHeaderValue? credentials,
        TextWriter output, TextWriter errors, CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(id) || id.Any(char.IsControl))
        {
            errors.WriteLine("error: the incident id is empty or has control characters");
            return 2;
        }
        if (!HostSettings.IsAbsoluteHttpUrl(url))
        {
            errors.WriteLine($"error: --url '{Text.DisplayText.Escape(url)}' is not an absolute http(s) URL such as {StandaloneHost.DefaultUrl}");
            return 2;
        }
        if (credentials is null)
        {
            errors.WriteLine("error: no credentials: set REMEDIATION_USER and REMEDIATION_PASSWORD (Basic) or REMEDIATION_TOKEN (Entra ID bearer token)");
            return 2;
        }
        await using var services = new ServiceCollection().AddHttpClient().BuildServiceProvider();
        using var client = services.GetRequiredService<IHttpClientFactory>().CreateClient(nameof(ApprovalCommand));
        (client.BaseAddress, client.Timeout) = (new Uri(url.TrimEnd('/') + "/"), TimeSpan.FromSeconds(30));
        client.DefaultRequestHeaders.Authorization = credentials;
        var body = JsonSerializer.Serialize(new ApprovalRequestBody(comment), WebJsonContext.Default.ApprovalRequestBody);
        using var content = new StringContent(body, Encoding.UTF8, "application/json");
        HttpResponseMessage response;
        try
        {
            response = await client.PostAsync($"api/remediations/{Uri.EscapeDataString(id)}/{verb}", content, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
        {
            errors.WriteLine($"error: the host at {url} is unreachable: {ex.Message}");
            return 1;
        }
        using (response)
        {
            var text = await response.Content.ReadAsStringAsync(cancellationToken).ConfigureAwait(false);
            if (response.IsSuccessStatusCode)
            {
                var answer = JsonSerializer.Deserialize(text, WebJsonContext.Default.ApprovalResponse);
                output.WriteLine(answer?.Detail ?? $"{verb}: done");
                return 0;
            }
            errors.WriteLine($"error: {(int)response.StatusCode} {Detail(text) ?? response.ReasonPhrase}");
            return response.StatusCode is HttpStatusCode.BadRequest or HttpStatusCode.NotFound ? 2 : 1;
        }
    }

    private static string? Detail(string problem)
    {
        try
        {
            return JsonSerializer.Deserialize(problem, WebJsonContext.Default.ApiProblem)?.Detail;
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
