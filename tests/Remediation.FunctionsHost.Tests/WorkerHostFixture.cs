using System.Diagnostics;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Threading.Channels;
using Grpc.Core;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Remediation.FunctionsHost.Tests.Rpc;
using Remediation.Tests.Fixtures;

namespace Remediation.FunctionsHost.Tests;

/// <summary>
/// Plays the Azure Functions host's side of the language-worker protocol against the built Remediation.Functions app:
/// a Kestrel gRPC server for FunctionRpc.EventStream, the worker process started the way the host starts it
/// (worker.config.json, --host/--port/--workerId/--requestId and the --functions-* forms), then
/// WorkerInitRequest → FunctionsMetadataRequest → FunctionLoadRequest per function, after which the test sends
/// InvocationRequests. Not the host: no bindings or listeners of its own beyond what a test does explicitly.
/// </summary>
public sealed class WorkerHostFixture : IAsyncDisposable
{
    private readonly Channel<StreamingMessage> _inbound = Channel.CreateUnbounded<StreamingMessage>();
    private readonly Channel<StreamingMessage> _outbound = Channel.CreateUnbounded<StreamingMessage>();
    private readonly StringBuilder _output = new();
    private readonly List<string> _rpcLogs = [];
    private WebApplication? _server;
    private Process? _worker;

    public int GrpcPort { get; } = FreePort.Next();
    public string WorkerId { get; } = Guid.NewGuid().ToString();
    public string RequestId { get; } = Guid.NewGuid().ToString();

    /// <summary>The worker's own HTTP listener (capability "HttpUri" of WorkerInitResponse), for ASP.NET Core integration.</summary>
    public Uri? HttpUri { get; private set; }

    /// <summary>Function name → function id the fixture assigned when loading it.</summary>
    public Dictionary<string, string> FunctionIds { get; } = new(StringComparer.Ordinal);

    public IReadOnlyList<RpcFunctionMetadata> Metadata { get; private set; } = [];

    /// <summary>Worker stdout/stderr and the RpcLog messages it sent, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output + string.Join('\n', _rpcLogs);
            }
        }
    }

    /// <summary>The app settings of local.settings.sample.json, storage on the given Azurite, then the overrides (null removes one).</summary>
    /// <summary>The storage connection string the worker was given (AzureWebJobsStorage).</summary>
    public string StorageConnectionString { get; private set; } = "";

    public static Dictionary<string, string?> Settings(AzuriteProcess azurite, IReadOnlyDictionary<string, string?>? overrides = null)
    {
        var settings = AppPaths.SampleSettings().ToDictionary(p => p.Key, p => (string?)p.Value, StringComparer.Ordinal);
        settings["AzureWebJobsStorage"] = azurite.ConnectionString;
        settings["Remediation__Storage__ConnectionString"] = azurite.ConnectionString;
        foreach (var (key, value) in overrides ?? new Dictionary<string, string?>())
        {
            settings[key] = value;
        }
        return settings;
    }

    /// <summary>Starts the gRPC server and the worker process; does not wait for the worker to connect.</summary>
    public async Task LaunchAsync(IReadOnlyDictionary<string, string?> settings)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(k => k.ListenLocalhost(GrpcPort, o => o.Protocols = HttpProtocols.Http2));
        builder.Services.AddGrpc(o => { o.MaxReceiveMessageSize = null; o.MaxSendMessageSize = null; });
        builder.Services.AddSingleton(this);
        _server = builder.Build();
        _server.MapGrpcService<EventStreamService>();
        await _server.StartAsync().ConfigureAwait(false);

        using var config = JsonDocument.Parse(await File.ReadAllTextAsync(Path.Combine(AppPaths.AppDirectory, "worker.config.json")).ConfigureAwait(false));
        var description = config.RootElement.GetProperty("description");
        var start = new ProcessStartInfo(description.GetProperty("defaultExecutablePath").GetString()!)
        {
            WorkingDirectory = AppPaths.AppDirectory,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        var port = GrpcPort.ToString(CultureInfo.InvariantCulture);
        foreach (var arg in new[]
        {
            Path.Combine(AppPaths.AppDirectory, description.GetProperty("defaultWorkerPath").GetString()!),
            "--host", "127.0.0.1", "--port", port, "--workerId", WorkerId, "--requestId", RequestId,
            "--grpcMaxMessageLength", "2147483647",
            "--functions-uri", $"http://127.0.0.1:{port}/", "--functions-worker-id", WorkerId,
            "--functions-request-id", RequestId, "--functions-grpc-max-message-length", "2147483647",
        })
        {
            start.ArgumentList.Add(arg);
        }
        // Only what the host would pass: the app settings (no inherited ASPNETCORE_/DOTNET_ test settings).
        foreach (var key in start.Environment.Keys.Where(k => k.StartsWith("ASPNETCORE_", StringComparison.Ordinal) || k.StartsWith("DOTNET_", StringComparison.Ordinal)).ToList())
        {
            start.Environment.Remove(key);
        }
        start.Environment["FUNCTIONS_WORKER_DIRECTORY"] = AppPaths.AppDirectory;
        start.Environment["AzureWebJobsScriptRoot"] = AppPaths.AppDirectory;
        start.Environment["FUNCTIONS_APPLICATION_DIRECTORY"] = AppPaths.AppDirectory; // the ASP.NET Core integration reads host.json (routePrefix) here
        foreach (var (key, value) in settings)
        {
            if (value is null)
            {
                start.Environment.Remove(key);
            }
            else
            {
                start.Environment[key] = value;
            }
        }
        StorageConnectionString = settings.TryGetValue("AzureWebJobsStorage", out var storage) ? storage ?? "" : "";
        _worker = Process.Start(start) ?? throw new InvalidOperationException("could not start the worker");
        _worker.OutputDataReceived += (_, e) => Append(e.Data);
        _worker.ErrorDataReceived += (_, e) => Append(e.Data);
        _worker.BeginOutputReadLine();
        _worker.BeginErrorReadLine();
    }

    /// <summary>The host's start-up sequence: StartStream, init, metadata, one load per function.</summary>
    public async Task InitializeAsync(TimeSpan timeout)
    {
        var start = await ReceiveAsync(m => m.ContentCase == StreamingMessage.ContentOneofCase.StartStream, timeout).ConfigureAwait(false);
        Assert.Equal(WorkerId, start.StartStream.WorkerId);

        var init = new WorkerInitRequest { HostVersion = "4.1040.0", WorkerDirectory = AppPaths.AppDirectory, FunctionAppDirectory = AppPaths.AppDirectory };
        init.Capabilities.Add("HttpUri", "true");
        init.Capabilities.Add("RpcHttpBodyOnly", "true");
        init.Capabilities.Add("RawHttpBodyBytes", "true");
        init.Capabilities.Add("TypedDataCollection", "true");
        await SendAsync(new StreamingMessage { RequestId = RequestId, WorkerInitRequest = init }).ConfigureAwait(false);
        var initResponse = (await ReceiveAsync(m => m.ContentCase == StreamingMessage.ContentOneofCase.WorkerInitResponse, timeout).ConfigureAwait(false)).WorkerInitResponse;
        Assert.True(initResponse.Result.Status == StatusResult.Types.Status.Success, $"init failed: {initResponse.Result}\n{Output}");
        if (initResponse.Capabilities.TryGetValue("HttpUri", out var httpUri))
        {
            HttpUri = new Uri(httpUri);
        }

        await SendAsync(new StreamingMessage { RequestId = RequestId, FunctionsMetadataRequest = new FunctionsMetadataRequest { FunctionAppDirectory = AppPaths.AppDirectory } }).ConfigureAwait(false);
        var metadata = (await ReceiveAsync(m => m.ContentCase == StreamingMessage.ContentOneofCase.FunctionMetadataResponse, timeout).ConfigureAwait(false)).FunctionMetadataResponse;
        Assert.True(metadata.Result.Status == StatusResult.Types.Status.Success, $"metadata failed: {metadata.Result}\n{Output}");
        Metadata = metadata.FunctionMetadataResults;

        foreach (var function in Metadata)
        {
            var id = string.IsNullOrEmpty(function.FunctionId) ? Guid.NewGuid().ToString() : function.FunctionId;
            var load = new RpcFunctionMetadata(function) { FunctionId = id, Directory = AppPaths.AppDirectory };
            await SendAsync(new StreamingMessage { RequestId = RequestId, FunctionLoadRequest = new FunctionLoadRequest { FunctionId = id, Metadata = load } }).ConfigureAwait(false);
            var loaded = (await ReceiveAsync(m => m.ContentCase == StreamingMessage.ContentOneofCase.FunctionLoadResponse && m.FunctionLoadResponse.FunctionId == id, timeout).ConfigureAwait(false)).FunctionLoadResponse;
            Assert.True(loaded.Result.Status == StatusResult.Types.Status.Success, $"load of {function.Name} failed: {loaded.Result}\n{Output}");
            FunctionIds[function.Name] = id;
        }
    }

    /// <summary>Sends one InvocationRequest and waits for its InvocationResponse.</summary>
    public async Task<InvocationResponse> InvokeAsync(string function, IEnumerable<ParameterBinding> inputs, IReadOnlyDictionary<string, TypedData> triggerMetadata, TimeSpan timeout, string? invocationId = null)
    {
        invocationId ??= Guid.NewGuid().ToString();
        var request = new InvocationRequest { InvocationId = invocationId, FunctionId = FunctionIds[function], TraceContext = new RpcTraceContext() };
        request.InputData.Add(inputs);
        foreach (var (key, value) in triggerMetadata)
        {
            request.TriggerMetadata[key] = value;
        }
        await SendAsync(new StreamingMessage { RequestId = RequestId, InvocationRequest = request }).ConfigureAwait(false);
        return (await ReceiveAsync(m => m.ContentCase == StreamingMessage.ContentOneofCase.InvocationResponse && m.InvocationResponse.InvocationId == invocationId, timeout).ConfigureAwait(false)).InvocationResponse;
    }

    public ValueTask SendAsync(StreamingMessage message) => _outbound.Writer.WriteAsync(message);

    /// <summary>The next message matching <paramref name="match"/>; others are dropped (logs are kept for <see cref="Output"/>).</summary>
    public async Task<StreamingMessage> ReceiveAsync(Func<StreamingMessage, bool> match, TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var message = await _inbound.Reader.ReadAsync(cts.Token).ConfigureAwait(false);
                if (match(message))
                {
                    return message;
                }
            }
        }
        catch (OperationCanceledException) when (cts.IsCancellationRequested)
        {
            throw new TimeoutException($"no matching message from the worker within {timeout} (worker exited: {_worker?.HasExited})\n{Output}");
        }
    }

    /// <summary>Waits for the worker process to exit (for start-up failures) and returns its exit code.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cts = new CancellationTokenSource(timeout);
        await _worker!.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        _worker.WaitForExit(); // drains the redirected output
        return _worker.ExitCode;
    }

    private void Append(string? line)
    {
        if (line is not null)
        {
            lock (_output)
            {
                _output.AppendLine(line);
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _outbound.Writer.TryComplete();
        if (_worker is { } worker)
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
                await worker.WaitForExitAsync().ConfigureAwait(false);
            }
            worker.Dispose();
        }
        if (_server is not null)
        {
            await _server.StopAsync().ConfigureAwait(false);
            await _server.DisposeAsync().ConfigureAwait(false);
        }
    }

    /// <summary>FunctionRpc.EventStream: the worker's messages into the inbound channel, the test's messages out.</summary>
    internal sealed class EventStreamService(WorkerHostFixture fixture) : FunctionRpc.FunctionRpcBase
    {
        public override async Task EventStream(IAsyncStreamReader<StreamingMessage> requestStream, IServerStreamWriter<StreamingMessage> responseStream, ServerCallContext context)
        {
            var pump = Task.Run(async () =>
            {
                await foreach (var message in fixture._outbound.Reader.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
                {
                    await responseStream.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
                }
            }, context.CancellationToken);
            await foreach (var message in requestStream.ReadAllAsync(context.CancellationToken).ConfigureAwait(false))
            {
                if (message.ContentCase == StreamingMessage.ContentOneofCase.RpcLog)
                {
                    lock (fixture._output)
                    {
                        fixture._rpcLogs.Add($"[{message.RpcLog.Level}] {message.RpcLog.Category}: {message.RpcLog.Message} {message.RpcLog.Exception?.Message}");
                    }
                }
                await fixture._inbound.Writer.WriteAsync(message, context.CancellationToken).ConfigureAwait(false);
            }
            await pump.ConfigureAwait(false);
        }
    }
}
