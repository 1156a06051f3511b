using System.Net;
using System.Text;
using Remediation.Tests.Fixtures;
using Remediation.Tests.Skeleton;

namespace Remediation.Tests.Security;

/// <summary>Routing's own refusals (404, 405) answer problem+json like every other error, keeping their status and Allow header.</summary>
[Collection(AzuriteCollection.Name)]
public sealed class EmptyErrorTests(AzuriteFixture storage)
{
    [Fact]
    public async Task A_wrong_method_and_an_unknown_path_are_problem_details()
    {
        await using var host = await HostHarness.StartAsync(storage.ConnectionString, null, worker: false);

        using (var wrongMethod = await host.Client.GetAsync("api/alerts/alertmanager"))
        {
            Assert.Equal(HttpStatusCode.MethodNotAllowed, wrongMethod.StatusCode);
            Assert.Contains("POST", wrongMethod.Content.Headers.Allow);
            var problem = await BadInputTests.ReadProblemAsync(wrongMethod);
            Assert.Equal(405, problem.GetProperty("status").GetInt32());
            Assert.Equal("GET is not allowed here; allowed: POST", problem.GetProperty("detail").GetString());
        }
        using (var unknown = await host.Client.PostAsync("api/alerts/unknown", new StringContent("{}", Encoding.UTF8, "application/json")))
        {
            Assert.Equal(HttpStatusCode.NotFound, unknown.StatusCode);
            var problem = await BadInputTests.ReadProblemAsync(unknown);
            Assert.Contains("/api/alerts/", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        }
    }
}
