using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Remediation.Diagnosis;
using Remediation.Metrics;
using Remediation.Notifications;

namespace Remediation.Hosting;

/// <summary>
/// The product's settings as options: bound from their configuration sections, validated by validators whose messages
/// name the setting, and checked when a host starts (<c>ValidateOnStart</c>). Each options object is also registered as
/// itself (the validated value), for the classes that take it directly.
/// </summary>
public static partial class OptionsRegistration
{
    public static IServiceCollection AddRemediationOptions(this IServiceCollection services, IConfiguration configuration)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (services.Any(d => d.ServiceType == typeof(IValidateOptions<RemediationOptions>)))
        {
            return services;
        }
        Add<RemediationOptions, RemediationOptionsValidator>(services, configuration, RemediationOptions.SectionName);
        Add<StorageOptions, StorageOptionsValidator>(services, configuration, StorageOptions.SectionName);
        Add<KubernetesOptions, KubernetesOptionsValidator>(services, configuration, KubernetesOptions.SectionName);
        Add<PrometheusOptions, PrometheusOptionsValidator>(services, configuration, PrometheusOptions.SectionName);
        Add<LogAnalyticsOptions, LogAnalyticsOptionsValidator>(services, configuration, LogAnalyticsOptions.SectionName);
        Add<NotificationOptions, NotificationOptionsValidator>(services, configuration, NotificationOptions.SectionName);
        Add<DiagnosisOptions, DiagnosisOptionsValidator>(services, configuration, DiagnosisOptions.SectionName);
        return services;
    }

    /// <summary>
    /// Runs every start-time check now (a host runs them when it starts): null when all settings are usable, else one
    /// line naming each bad setting and the form expected.
    /// </summary>
    public static string? StartupProblem(IServiceProvider services)
    {
        ArgumentNullException.ThrowIfNull(services);
        try
        {
            services.GetService<IStartupValidator>()?.Validate();
            return null;
        }
        catch (Exception ex) when (Problem(ex) is { } problem)
        {
            return problem;
        }
    }

    /// <summary>
    /// The bad settings an exception from options validation or binding names, as one line (each setting and the form
    /// expected); null for any other exception.
    /// </summary>
    public static string? Problem(Exception exception) => exception switch
    {
        OptionsValidationException ex => string.Join("; ", ex.Failures),
        AggregateException ex when ex.InnerExceptions.All(e => e is OptionsValidationException) =>
            string.Join("; ", ex.InnerExceptions.Cast<OptionsValidationException>().SelectMany(e => e.Failures)),
        InvalidOperationException ex => BindingProblem(ex),
        _ => null,
    };

    /// <summary>A value the configuration binder could not convert, said without the runtime's type names.</summary>
    public static string? BindingProblem(Exception exception)
    {
        ArgumentNullException.ThrowIfNull(exception);
        var match = FailedBinding().Match(exception.Message);
        if (!match.Success)
        {
            return null;
        }
        var expected = match.Groups["type"].Value switch
        {
            "System.TimeSpan" => "a duration such as 00:00:05",
            "System.Int32" or "System.Int64" => "a whole number",
            "System.Double" => "a number such as 0.05",
            "System.Boolean" => "true or false",
            "System.Uri" => "an absolute http(s) URL",
            _ => "a value of the expected form",
        };
        return $"{match.Groups["key"].Value} is not {expected}";
    }

    private static void Add<TOptions, TValidator>(IServiceCollection services, IConfiguration configuration, string section)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>
    {
        services.AddOptions<TOptions>().Bind(configuration.GetSection(section)).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>, TValidator>());
        services.TryAddSingleton(sp => sp.GetRequiredService<IOptions<TOptions>>().Value);
    }

    [GeneratedRegex("at '(?<key>[^']+)' to type '(?<type>[^']+)'")]
    private static partial Regex FailedBinding();
}
