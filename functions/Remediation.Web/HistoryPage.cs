using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Web;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Remediation.Http.History;
using Remediation.Storage;

namespace Remediation.Http;

/// <summary>
/// GET / (and /ui): the read-only remediation history, server-rendered HTML, one page at a time: diagnosis with its
/// evidence, action with its plan and prior state, outcome and timings. Filters come from the query string (namespace,
/// workload, state, since, limit = the page size), as for GET /api/remediations, and so does the position:
/// <c>continuation</c> (where this page starts) and <c>back</c> (the starts of the pages before it, for "previous").
/// Newest first by when the alert started firing, across pages (<see cref="IncidentStore.ListPageAsync"/>). Above the
/// page, the number of incidents per state for the filters (without the state filter): a scan that reads only the State
/// column, of at most <see cref="MaxCounted"/> rows: the newest ones, ids being newest first. A full count of a large
/// history would scan the table on every render (100,000 rows: 100 round trips).
/// The page is Razor components (<see cref="HistoryDocument"/>) rendered to static HTML: every value is written as
/// encoded text, control and bidi characters escaped (<see cref="Text.DisplayText"/>); there are no scripts and no
/// external assets, and the Content-Security-Policy forbids both.
/// </summary>
public sealed class HistoryPage(IncidentStore store, TimeProvider timeProvider, ILoggerFactory loggerFactory)
{
    /// <summary>Most summary rows the per-state counts above a page read.</summary>
    public const int MaxCounted = 5_000;

    public const string ContentSecurityPolicy = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>Most page starts kept in <c>back</c>; past that, "previous" stops and "first page" remains.</summary>
    public const int MaxBack = 20;

    private const string HtmlContentType = "text/html; charset=utf-8";

    public async Task<IResult> RenderAsync(HttpRequest request, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var filter = HistoryFilter.FromQuery(request.Query);
        var headers = request.HttpContext.Response.Headers;
        headers.ContentSecurityPolicy = ContentSecurityPolicy;
        headers.XContentTypeOptions = "nosniff";
        headers.CacheControl = "no-store";
        var services = request.HttpContext.RequestServices;
        if (filter.Problem is { } problem)
        {
            return await ProblemAsync(services, filter, problem, StatusCodes.Status400BadRequest, cancellationToken).ConfigureAwait(false);
        }
        IncidentPage page;
        IncidentCounts counts;
        try
        {
            var pageTask = store.ListPageAsync(new IncidentQuery(filter.Namespace, filter.Workload, filter.State, filter.Since), filter.Limit, filter.Continuation, cancellationToken);
            var countsTask = store.CountByStateAsync(new IncidentQuery(filter.Namespace, filter.Workload, null, filter.Since), MaxCounted, cancellationToken);
            page = await pageTask.ConfigureAwait(false);
            counts = await countsTask.ConfigureAwait(false);
        }
        catch (TransientDependencyException ex)
        {
            headers.RetryAfter = ((int)Math.Ceiling(ex.RetryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            return await ProblemAsync(services, filter, $"{ex.Dependency} is unavailable; reload in a moment", StatusCodes.Status503ServiceUnavailable, cancellationToken)
                .ConfigureAwait(false);
        }
        var view = new HistoryView(filter, page.Incidents, null, timeProvider.GetUtcNow(), counts, page.Continuation)
        {
            // The approve/reject forms, when the host protects forms (anti-forgery registered).
            CardExtras = services.GetService<Microsoft.AspNetCore.Antiforgery.IAntiforgery>()?.GetAndStoreTokens(request.HttpContext) is { } tokens ? new ApprovalForms(tokens).CardExtras : null,
        };
        var html = await RenderDocumentAsync(services, loggerFactory, view, cancellationToken).ConfigureAwait(false);
        return Results.Content(html, HtmlContentType, Encoding.UTF8, StatusCodes.Status200OK);
    }

    private async Task<IResult> ProblemAsync(IServiceProvider services, HistoryFilter filter, string problem, int status, CancellationToken cancellationToken)
    {
        var view = new HistoryView(filter, [], problem, timeProvider.GetUtcNow());
        var html = await RenderDocumentAsync(services, loggerFactory, view, cancellationToken).ConfigureAwait(false);
        return Results.Content(html, HtmlContentType, Encoding.UTF8, status);
    }

    /// <summary>The whole document for <paramref name="view"/>, outside a request (tests of the markup and its encoding).</summary>
    public static async Task<string> RenderDocumentAsync(HistoryView view, CancellationToken cancellationToken = default)
    {
        await using var services = new ServiceCollection().BuildServiceProvider();
        return await RenderDocumentAsync(services, NullLoggerFactory.Instance, view, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Renders <see cref="HistoryDocument"/> to a string with a renderer over <paramref name="services"/> (the request's).</summary>
    public static async Task<string> RenderDocumentAsync(IServiceProvider services, ILoggerFactory loggerFactory, HistoryView view, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(view);
        cancellationToken.ThrowIfCancellationRequested();
        await using var renderer = new HtmlRenderer(services, loggerFactory);
        // On the renderer's dispatcher throughout (no ConfigureAwait(false) inside): the output is read where it was rendered.
        return await renderer.Dispatcher.InvokeAsync(async () =>
        {
            var root = await renderer.RenderComponentAsync<HistoryDocument>(ParameterView.FromDictionary(view.Parameters()));
            return root.ToHtmlString();
        }).ConfigureAwait(false);
    }
}

/// <summary>
/// What one rendering of the history page shows: the filters, this page's incidents (newest first), a problem to report,
/// the time of rendering, the counts per state (null: not counted) and where the next page starts (null: the last page).
/// </summary>
public sealed record HistoryView(HistoryFilter Filter, IReadOnlyList<IncidentRecord> Incidents, string? Problem, DateTimeOffset Now,
    IncidentCounts? Counts = null, IncidentCursor? Next = null)
{
    /// <summary>More content for each incident's card, below its details (views of the incident, forms that act on it).</summary>
    public RenderFragment<IncidentRecord>? CardExtras { get; init; }

    internal Dictionary<string, object?> Parameters() => new()
    {
        [nameof(HistoryDocument.Filter)] = Filter,
        [nameof(HistoryDocument.Incidents)] = Incidents,
        [nameof(HistoryDocument.Problem)] = Problem,
        [nameof(HistoryDocument.Now)] = Now,
        [nameof(HistoryDocument.Counts)] = Counts,
        [nameof(HistoryDocument.Next)] = Next,
        [nameof(HistoryDocument.CardExtras)] = CardExtras,
    };
}
