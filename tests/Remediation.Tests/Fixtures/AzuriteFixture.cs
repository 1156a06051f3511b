namespace Remediation.Tests.Fixtures;

/// <summary>One Azurite per test run; tests isolate themselves with their own table and queue names.</summary>
public sealed class AzuriteFixture : IAsyncLifetime
{
    public AzuriteProcess Azurite { get; private set; } = null!;
    public string ConnectionString => Azurite.ConnectionString;

    public async Task InitializeAsync() => Azurite = await AzuriteProcess.StartNewAsync();

    public async Task DisposeAsync() => await Azurite.DisposeAsync();
}

[CollectionDefinition(Name)]
public sealed class AzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite";
}

/// <summary>
/// The long property tests (minutes each, mostly waiting on storage round trips) run on an Azurite of their own, so they
/// run beside the rest of the suite instead of after it.
/// </summary>
[CollectionDefinition(Name)]
public sealed class LongRunningAzuriteCollection : ICollectionFixture<AzuriteFixture>
{
    public const string Name = "azurite-long";
}
