namespace Remediation.Storage;

/// <summary>Runs a storage call, turning transient failures into <see cref="TransientDependencyException"/>.</summary>
internal static class StorageCall
{
    public static async Task<T> Guard<T>(Func<Task<T>> call)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception ex) when (TransientDependencyException.IsTransient(ex))
        {
            throw TransientDependencyException.Storage(ex);
        }
    }
}
