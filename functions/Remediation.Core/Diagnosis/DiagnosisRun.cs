using System.Globalization;
using Remediation.Alerts;

namespace Remediation.Diagnosis;

/// <summary>
/// The state of one diagnosis: its time budget (on the TimeProvider), shared by every optional source, and the sources
/// that could not be consulted, with why.
/// </summary>
internal sealed class DiagnosisRun : IDisposable
{
    private readonly DiagnosisOptions _options;
    private readonly TimeProvider _timeProvider;
    private readonly WorkloadTarget _target;
    private readonly CancellationToken _callerToken;
    private readonly CancellationTokenSource _budget;
    private readonly CancellationTokenSource _budgetToken;
    private readonly List<string> _unavailable = [];

    public DiagnosisRun(DiagnosisOptions options, TimeProvider timeProvider, WorkloadTarget target, CancellationToken callerToken)
    {
        _options = options;
        _timeProvider = timeProvider;
        _target = target;
        _callerToken = callerToken;
        _budget = new CancellationTokenSource(options.Budget, timeProvider);
        _budgetToken = CancellationTokenSource.CreateLinkedTokenSource(callerToken, _budget.Token);
    }

    /// <summary>The recorded "source: why" of a source that could not be consulted; null when it was.</summary>
    public string? Why(string source)
    {
        lock (_unavailable)
        {
            return _unavailable.FirstOrDefault(u => u.StartsWith(source + ": ", StringComparison.Ordinal));
        }
    }

    public void Unavailable(string source, string why)
    {
        lock (_unavailable)
        {
            _unavailable.Add($"{source}: {why}");
        }
    }

    /// <summary>Runs an optional source within the budget (and its own timeout); null when it failed, recorded in Unavailable.</summary>
    public async Task<T?> OptionalAsync<T>(string source, Func<CancellationToken, Task<T>> call, bool useSourceTimeout = true) where T : class?
    {
        using var timeout = new CancellationTokenSource(useSourceTimeout ? _options.SourceTimeout : Timeout.InfiniteTimeSpan, _timeProvider);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(_budgetToken.Token, timeout.Token);
        try
        {
            return await call(linked.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (!_callerToken.IsCancellationRequested && ex is not OutOfMemoryException)
        {
            var why = ex switch
            {
                OperationCanceledException when _budget.IsCancellationRequested => $"diagnosis budget of {Seconds(_options.Budget)} exhausted",
                OperationCanceledException when timeout.IsCancellationRequested => $"timed out after {Seconds(_options.SourceTimeout)}",
                _ => SourceFailure.Describe(ex),
            };
            Unavailable(source, why);
            return null;
        }
    }

    /// <summary>The result of the diagnosis: the finding, all evidence gathered, and every source that could not be consulted.</summary>
    public DiagnosisResult Finish(Finding finding, IReadOnlyList<Evidence> evidence)
    {
        lock (_unavailable)
        {
            return new DiagnosisResult
            {
                Class = finding.Class,
                Target = _target,
                Component = finding.Component,
                Confidence = finding.Confidence,
                Summary = finding.Summary,
                Evidence = evidence,
                Unavailable = [.. _unavailable],
                FailingRevision = finding.FailingRevision,
                HealthyRevision = finding.HealthyRevision,
                DegradedVersion = finding.DegradedVersion,
                HealthyVersions = finding.HealthyVersions,
                Graph = finding.Graph,
            };
        }
    }

    public void Dispose()
    {
        _budgetToken.Dispose();
        _budget.Dispose();
    }

    private static string Seconds(TimeSpan t) => t.TotalSeconds.ToString("0.#", CultureInfo.InvariantCulture) + "s";
}
