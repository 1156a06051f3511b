using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace Remediation.Http;

public static class ServiceCollectionExtensions
{
    /// <summary>The shared HTTP handlers, over the core's services (<c>AddRemediationCore</c>); both hosts call this.</summary>
    public static IServiceCollection AddRemediationEndpoints(this IServiceCollection services)
    {
        services.TryAddSingleton<AlertEndpoints>();
        services.TryAddSingleton<ApprovalEndpoints>();
        return services;
    }
}
