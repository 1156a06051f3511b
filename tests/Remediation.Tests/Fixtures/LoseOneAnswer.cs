using Azure.Core;
using Azure.Core.Pipeline;

namespace Remediation.Tests.Fixtures;

/// <summary>Sends the first request that matches once armed, then throws as a timed-out answer would (the client retries).</summary>
public sealed class LoseOneAnswer : HttpPipelinePolicy
{
    private Func<Request, bool>? _match;
    public int Lost { get; private set; }

    public void Arm(Func<Request, bool> match) => _match = match;

    public override void Process(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline) =>
        throw new NotSupportedException("the store calls storage asynchronously");

    public override async ValueTask ProcessAsync(HttpMessage message, ReadOnlyMemory<HttpPipelinePolicy> pipeline)
    {
        await ProcessNextAsync(message, pipeline).ConfigureAwait(false);
        if (_match is { } match && match(message.Request))
        {
            _match = null;
            Lost++;
            Assert.True(message.Response.Status < 300, $"the write to lose was answered {message.Response.Status}");
            throw new IOException("the answer was lost");
        }
    }
}
