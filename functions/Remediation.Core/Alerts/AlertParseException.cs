namespace Remediation.Alerts;

/// <summary>A payload the product cannot accept; <see cref="Field"/> names the offending JSON path.</summary>
public sealed class AlertParseException(string field, string message) : Exception(message)
{
    public string Field { get; } = field;
}
