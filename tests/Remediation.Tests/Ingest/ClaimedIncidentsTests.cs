using CsCheck;
using Microsoft.Extensions.Time.Testing;
using Remediation.Alerts;
using Remediation.Ingest;

namespace Remediation.Tests.Ingest;

/// <summary>
/// The claimed-incident memory against a plain model (a list of (id, learned at), oldest first, at most capacity long):
/// generated runs of remembers, lookups and clock steps (CsCheck, fixed seed) answer the same; what is not an incident id
/// is never remembered; and its memory does not grow with the ids it holds.
/// </summary>
public sealed class ClaimedIncidentsTests
{
    private static readonly DateTimeOffset Start = new(2026, 12, 1, 0, 0, 0, TimeSpan.Zero);

    /// <summary>One step: remember id n, ask for id n, or let seconds pass.</summary>
    private static readonly Gen<(int Kind, int N)> Steps = Gen.Select(Gen.Int[0, 2], Gen.Int[0, 40]);

    private static string Id(int n) => IncidentIdentity.For(AlertSource.Alertmanager, "fp" + n, Start.AddMinutes(n));

    [Fact]
    public void Generated_runs_answer_as_the_model_does()
    {
        var pcg = new PCG(20, 20261201);
        for (var run = 0; run < 300; run++)
        {
            var capacity = Gen.Int[1, 12].Generate(pcg, null, out _);
            var steps = Steps.Array[1, 200].Generate(pcg, null, out _);
            var time = new FakeTimeProvider(Start);
            var lifetime = TimeSpan.FromSeconds(30);
            var memory = new ClaimedIncidents(lifetime, capacity, time);
            var model = new List<(string Id, DateTimeOffset At)>();
            foreach (var (kind, n) in steps)
            {
                var id = Id(n);
                switch (kind)
                {
                    case 0:
                        memory.Remember(id);
                        var held = model.FindIndex(e => e.Id == id);
                        if (held >= 0)
                        {
                            model[held] = (id, time.GetUtcNow());
                        }
                        else
                        {
                            if (model.Count == capacity)
                            {
                                model.RemoveAt(0);
                            }
                            model.Add((id, time.GetUtcNow()));
                        }
                        break;
                    case 1:
                        var expected = model.Any(e => e.Id == id && time.GetUtcNow() - e.At < lifetime);
                        Assert.True(expected == memory.Contains(id), $"run {run}, capacity {capacity}: id {n} expected {(expected ? "known" : "unknown")}");
                        break;
                    default:
                        time.Advance(TimeSpan.FromSeconds(n));
                        break;
                }
                Assert.Equal(model.Count, memory.Count);
            }
        }
    }

    [Theory]
    [InlineData("")]
    [InlineData("0000000000000000000000000000000")]
    [InlineData("000000000000000000000000000000000")]
    [InlineData("0000000000000000000000000000000A")]
    [InlineData("0x000000000000000000000000000000")]
    [InlineData("+0000000000000000000000000000000")]
    [InlineData(" 0000000000000000000000000000000")]
    [InlineData("000000000000000000000000000000g0")]
    [InlineData("0000000000000000000000000000000\u0661")]
    public void What_is_not_an_incident_id_is_never_remembered(string notAnId)
    {
        var memory = new ClaimedIncidents(TimeSpan.FromMinutes(1), 4, new FakeTimeProvider(Start));
        memory.Remember(notAnId);
        Assert.False(memory.Contains(notAnId));
        Assert.Equal(0, memory.Count);
        Assert.False(ClaimedIncidents.TryPack(notAnId, out _));
    }

    [Fact]
    public void Ids_differing_in_one_digit_are_different_incidents()
    {
        var memory = new ClaimedIncidents(TimeSpan.FromMinutes(1), 64, new FakeTimeProvider(Start));
        var id = Id(1);
        memory.Remember(id);
        for (var i = 0; i < id.Length; i++)
        {
            var other = string.Concat(id.AsSpan(0, i), id[i] == '0' ? "1" : "0", id.AsSpan(i + 1));
            Assert.False(memory.Contains(other), other);
        }
        Assert.True(memory.Contains(id));
    }

    [Fact]
    public void Its_memory_is_taken_once_not_as_ids_arrive()
    {
        var time = new FakeTimeProvider(Start);
        var before = GC.GetAllocatedBytesForCurrentThread();
        var memory = new ClaimedIncidents(TimeSpan.FromMinutes(15), 1 << 12, time);
        var made = GC.GetAllocatedBytesForCurrentThread() - before;
        var ids = Enumerable.Range(0, 3 << 12).Select(Id).ToList();
        before = GC.GetAllocatedBytesForCurrentThread();
        foreach (var id in ids)
        {
            memory.Remember(id);
            Assert.True(memory.Contains(id));
        }
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        Assert.InRange(made, 32 << 12, 40 << 12);
        Assert.Equal(1 << 12, memory.Count);
        Assert.False(memory.Contains(ids[(2 << 12) - 1]));
        Assert.True(memory.Contains(ids[2 << 12]));
    }
}
