namespace Remediation.Policy;

/// <summary>
/// The action cannot safely run on this target now (paused rollout, no healthy revision, cap reached, a parameter the
/// policy gave out of range...). Thrown while planning; the planner escalates it to a human.
/// </summary>
public sealed class ActionNotApplicableException(string message) : Exception(message);
