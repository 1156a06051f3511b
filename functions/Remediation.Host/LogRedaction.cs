using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Remediation.Host;

/// <summary>
/// Secrets in query strings never reach a log line. A webhook sender may put its credential in the URL
/// (<c>?access_token=</c>, an Azure Functions <c>?code=</c>, a SAS <c>sig=</c>); ASP.NET Core's hosting diagnostics log the
/// full URL at Information. The host turns those off (<see cref="StandaloneHost"/> logs a redacted request line instead),
/// and every logger provider is wrapped so that any formatted message, from any component, is redacted too. Control,
/// bidi and line-break characters that alert text carries into a message are written escaped (<c>\u000a</c>), so a
/// label can neither forge a log line nor reorder what a terminal shows.
/// </summary>
public static partial class LogRedaction
{
    /// <summary>Query keys whose values are secrets (case-insensitive).</summary>
    public static readonly IReadOnlyList<string> SecretKeys =
        ["access_token", "id_token", "refresh_token", "token", "code", "sig", "signature", "key", "api-key", "api_key", "apikey", "password", "pwd", "secret", "client_secret"];

    public const string Mask = "***";

    /// <summary>
    /// The query parameters of the product's own pages and APIs whose values are not secrets (history filters and
    /// position, the approval page's verb); the request line shows these as sent.
    /// </summary>
    public static readonly IReadOnlySet<string> LoggedParameters =
        new HashSet<string>([.. Http.HistoryInput.Parameters, "back", "verb"], StringComparer.OrdinalIgnoreCase);

    /// <summary>
    /// A request's query string as its log line shows it: each parameter whose name (percent-decoded) is one of
    /// <see cref="LoggedParameters"/> as sent, every other one as <c>***=***</c> (its name too: a sender may put a
    /// credential anywhere in its URL, under any name or as a bare value). Empty stays empty.
    /// </summary>
    public static string Query(string rawQuery)
    {
        ArgumentNullException.ThrowIfNull(rawQuery);
        var query = rawQuery.StartsWith('?') ? rawQuery[1..] : rawQuery;
        if (query.Length == 0)
        {
            return "";
        }
        var parts = query.Split('&');
        for (var i = 0; i < parts.Length; i++)
        {
            var equals = parts[i].IndexOf('=', StringComparison.Ordinal);
            var name = equals < 0 ? null : DecodedName(parts[i][..equals]);
            parts[i] = name is not null && LoggedParameters.Contains(name) ? parts[i] : Mask + "=" + Mask;
        }
        return "?" + string.Join('&', parts);
    }

    /// <summary>A query parameter's name percent-decoded ('+' is a space) as ASP.NET Core reads it.</summary>
    private static string DecodedName(string encoded) => Uri.UnescapeDataString(encoded.Replace('+', ' '));

    /// <summary><paramref name="text"/> with the value of every secret query parameter replaced by ***.</summary>
    public static string Redact(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Contains('=', StringComparison.Ordinal) ? SecretParameter().Replace(text, "$1" + Mask) : text;
    }

    /// <summary>Wraps every registered <see cref="ILoggerProvider"/> so that what it writes is redacted.</summary>
    public static void WrapLoggerProviders(IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        for (var i = 0; i < services.Count; i++)
        {
            var descriptor = services[i];
            if (descriptor.ServiceType != typeof(ILoggerProvider) || descriptor.IsKeyedService)
            {
                continue;
            }
            services[i] = ServiceDescriptor.Singleton<ILoggerProvider>(sp => new RedactingLoggerProvider(Create(sp, descriptor)));
        }
    }

    private static ILoggerProvider Create(IServiceProvider services, ServiceDescriptor descriptor) => descriptor switch
    {
        { ImplementationInstance: ILoggerProvider instance } => instance,
        { ImplementationFactory: { } factory } => (ILoggerProvider)factory(services),
        { ImplementationType: { } type } => (ILoggerProvider)ActivatorUtilities.CreateInstance(services, type),
        _ => throw new InvalidOperationException("unsupported logger provider registration"),
    };

    // A secret key as a query parameter (after ? or &, also percent-encoded &), up to the next separator.
    [GeneratedRegex(@"((?:[?&;]|%26)(?:access_token|id_token|refresh_token|token|code|sig|signature|key|api-key|api_key|apikey|password|pwd|secret|client_secret)=)[^&\s#""'<>]*",
        RegexOptions.IgnoreCase | RegexOptions.CultureInvariant)]
    private static partial Regex SecretParameter();

    private sealed class RedactingLoggerProvider(ILoggerProvider inner) : ILoggerProvider, ISupportExternalScope
    {
        public ILogger CreateLogger(string categoryName) => new RedactingLogger(inner.CreateLogger(categoryName));

        public void SetScopeProvider(IExternalScopeProvider scopeProvider)
        {
            if (inner is ISupportExternalScope scoped)
            {
                scoped.SetScopeProvider(scopeProvider);
            }
        }

        public void Dispose() => inner.Dispose();
    }

    private sealed class RedactingLogger(ILogger inner) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state) where TState : notnull => inner.BeginScope(state);

        public bool IsEnabled(LogLevel logLevel) => inner.IsEnabled(logLevel);

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            inner.Log(logLevel, eventId, state, exception is null ? null : new RedactedException(exception),
                (s, e) => Text.DisplayText.Escape(Redact(formatter(s, exception))));
    }

    /// <summary>An exception as the log writes it (message and stack trace), redacted.</summary>
    private sealed class RedactedException(Exception inner) : Exception(Redact(inner.Message))
    {
        public override string? StackTrace => inner.StackTrace;

        public override string ToString() => Redact(inner.ToString());
    }
}
