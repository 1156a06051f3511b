namespace Remediation.Cluster;

/// <summary>
/// The only way the product changes the cluster. Dry run is a property of the writer, fixed when it is made: a dry-run
/// writer sends every call with dryRun=All and cannot be told otherwise on the way.
/// </summary>
public interface IClusterWriter
{
    bool DryRun { get; }

    /// <summary>Applies one mutation; returns the object's resourceVersion after the call (dry run: what it would be).</summary>
    Task<string?> ApplyAsync(Mutation mutation, CancellationToken cancellationToken = default);
}

/// <summary>Hands out the live or the dry-run writer.</summary>
public interface IClusterWriters
{
    IClusterWriter For(bool dryRun);
}
