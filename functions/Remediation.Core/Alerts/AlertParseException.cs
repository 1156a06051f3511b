namespace Remediation.Alerts;

/// <summary>
/// A payload the product cannot accept; <see cref="Field"/> names the offending JSON path. Both go back to the sender in
/// a problem+json body and into the log, so both are bounded (<see cref="MaxMessageLength"/>, <see cref="MaxFieldLength"/>)
/// and shown with control characters escaped, whatever the payload quoted into them.
/// </summary>
public sealed class AlertParseException(string field, string message) : Exception(Bound(message, MaxMessageLength))
{
    public const int MaxMessageLength = 1000;
    public const int MaxFieldLength = 300;

    public string Field { get; } = Bound(field, MaxFieldLength);

    private static string Bound(string text, int max)
    {
        var shown = Text.DisplayText.Escape(text);
        return shown.Length <= max ? shown : string.Concat(shown.AsSpan(0, max - 1), "…");
    }
}
