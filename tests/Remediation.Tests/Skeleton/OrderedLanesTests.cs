using CsCheck;

namespace Remediation.Tests.Skeleton;

/// <summary>
/// Items in lanes (CsCheck, fixed seed): generated batches of keyed items, some failing, at generated widths. Every item
/// of a lane that did not fail earlier runs exactly once, a key's items in their order and never two at once, no more
/// lanes than the width run at once, a failure ends only its own lane, and a failure is thrown only after every lane has ended.
/// </summary>
public sealed class OrderedLanesTests
{
    [Fact]
    public async Task Generated_batches_run_each_key_in_order_within_the_width()
    {
        var pcg = new PCG(21, 20261201);
        for (var run = 0; run < 200; run++)
        {
            var width = Gen.Int[1, 5].Generate(pcg, null, out _);
            var items = Gen.Select(Gen.Int[0, 6], Gen.Int[0, 19]).Array[0, 40].Generate(pcg, null, out _);
            await CheckAsync(run, width, items.Select(i => (Key: "k" + i.Item1, Fails: i.Item2 == 0)).ToArray());
        }
    }

    [Fact]
    public async Task Lanes_run_at_once_up_to_the_width()
    {
        // Eight keys, each item held until four are running: the width is reached (and, by the check, never passed).
        var running = 0;
        var reached = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await OrderedLanes.RunAsync(8, i => "k" + i, 4, async _ =>
        {
            if (Interlocked.Increment(ref running) == 4)
            {
                reached.TrySetResult();
            }
            await reached.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.InRange(Volatile.Read(ref running), 1, 4);
            Interlocked.Decrement(ref running);
        }, CancellationToken.None);
        Assert.True(reached.Task.IsCompletedSuccessfully);
    }

    private static async Task CheckAsync(int run, int width, (string Key, bool Fails)[] items)
    {
        var ran = new List<int>();
        var runningPerKey = new Dictionary<string, int>();
        var running = 0;
        var maxRunning = 0;
        var gate = new object();
        var thrown = await Record.ExceptionAsync(() => OrderedLanes.RunAsync(items.Length, i => items[i].Key, width, async i =>
        {
            lock (gate)
            {
                Assert.True(runningPerKey.GetValueOrDefault(items[i].Key) == 0, $"run {run}: two items of {items[i].Key} at once");
                runningPerKey[items[i].Key] = 1;
                maxRunning = Math.Max(maxRunning, ++running);
                ran.Add(i);
            }
            await Task.Yield();
            await Task.Delay(i % 3);
            lock (gate)
            {
                runningPerKey[items[i].Key] = 0;
                running--;
            }
            if (items[i].Fails)
            {
                throw new InvalidOperationException("item " + i);
            }
        }, CancellationToken.None));

        Assert.True(maxRunning <= width, $"run {run}: {maxRunning} lanes at once, width {width}");
        // Expected: each key's items up to and including its first failing one, in order.
        var expected = items.Select((item, i) => (item.Key, i)).GroupBy(x => x.Key)
            .Select(lane => lane.Select(x => x.i).TakeWhile((i, n) => n == 0 || !items[lane.ElementAt(n - 1).i].Fails).ToList()).ToList();
        Assert.Equal(expected.Sum(lane => lane.Count), ran.Count);
        foreach (var lane in expected)
        {
            Assert.Equal(lane, ran.Where(lane.Contains).ToList());
        }
        var failing = expected.Where(lane => items[lane[^1]].Fails).ToList();
        if (failing.Count == 0)
        {
            Assert.Null(thrown);
        }
        else
        {
            // One of the lanes' failures (the one that ended its lane first).
            var message = Assert.IsType<InvalidOperationException>(thrown).Message;
            Assert.True(failing.Any(lane => message == "item " + lane[^1]), $"run {run}: threw {message}, not a failing item's");
        }
    }
}
