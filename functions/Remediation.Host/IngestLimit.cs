using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.DependencyInjection;
using Remediation.Http;

namespace Remediation.Host;

/// <summary>
/// Overload protection of the alert endpoints, with ASP.NET Core's rate limiter: at most
/// <see cref="RemediationOptions.MaxConcurrentDeliveries"/> deliveries are ingested at once and
/// <see cref="RemediationOptions.QueuedDeliveries"/> wait, oldest first; any more is answered 503 + Retry-After at once,
/// before its body is read (Alertmanager, Event Grid and action groups retry; nothing was claimed, so nothing is lost).
/// When storage slows down, the answer time and the host's memory stay bounded instead of requests piling up behind it.
/// On Azure Functions, Flex Consumption's per-instance HTTP concurrency (infra/app/api.bicep) plays this part.
/// </summary>
internal static class IngestLimit
{
    public const string Policy = "alert-ingest";

    /// <summary>What a refused sender is told to wait.</summary>
    public static readonly TimeSpan RetryAfter = TimeSpan.FromSeconds(5);

    public static IServiceCollection AddIngestLimit(this IServiceCollection services)
    {
        services.AddRateLimiter(_ => { });
        services.AddOptions<RateLimiterOptions>().Configure<RemediationOptions>((limiter, options) =>
        {
            limiter.RejectionStatusCode = 503;
            limiter.AddConcurrencyLimiter(Policy, c =>
            {
                c.PermitLimit = options.MaxConcurrentDeliveries;
                c.QueueLimit = options.QueuedDeliveries;
                c.QueueProcessingOrder = QueueProcessingOrder.OldestFirst;
            });
            var detail = string.Create(CultureInfo.InvariantCulture,
                $"the host is ingesting {options.MaxConcurrentDeliveries} alert deliveries at once with {options.QueuedDeliveries} waiting; retry later (nothing was claimed from this delivery)");
            limiter.OnRejected = (context, _) => new ValueTask(ApiProblem.Unavailable(detail, RetryAfter).ExecuteAsync(context.HttpContext));
        });
        return services;
    }
}
