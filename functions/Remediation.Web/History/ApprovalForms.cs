using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Components;
using Remediation.Storage;

namespace Remediation.Http.History;

/// <summary>
/// The anti-forgery token of one rendering, for the forms that answer requests for approval (the cookie half is set on
/// the response by <see cref="IAntiforgery.GetAndStoreTokens"/>; the form carries the other half).
/// </summary>
public sealed record ApprovalForms(AntiforgeryTokenSet Tokens)
{
    /// <summary>The form field of the anti-forgery token (the framework's default name).</summary>
    public const string AntiforgeryField = "__RequestVerificationToken";

    public string FieldName => Tokens.FormFieldName;
    public string? Value => Tokens.RequestToken;

    /// <summary>The card extra of the history page: the approve/reject form of each incident awaiting approval.</summary>
    public RenderFragment<IncidentRecord> CardExtras => incident => builder =>
    {
        builder.OpenComponent<ApprovalForm>(0);
        builder.AddAttribute(1, nameof(ApprovalForm.Incident), incident);
        builder.AddAttribute(2, nameof(ApprovalForm.Forms), this);
        builder.CloseComponent();
    };

    public static string Action(string incidentId, string verb) => $"/ui/remediations/{Uri.EscapeDataString(incidentId)}/{verb}";
}
