namespace Remediation.Policy;

/// <summary>A policy file that cannot be used; every problem names its line.</summary>
public sealed class PolicyValidationException(IReadOnlyList<string> errors)
    : Exception("invalid policy:\n" + string.Join("\n", errors))
{
    public IReadOnlyList<string> Errors { get; } = errors;
}
