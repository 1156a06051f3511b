using Remediation.Storage;

namespace Remediation.Tests.Incidents;

public sealed class IncidentLifecycleTests
{
    public static TheoryData<IncidentState, IncidentState> Illegal => new()
    {
        { IncidentState.Succeeded, IncidentState.Failed },
        { IncidentState.Failed, IncidentState.Received },
        { IncidentState.Resolved, IncidentState.Acting },
        { IncidentState.Received, IncidentState.Verifying },
        { IncidentState.Received, IncidentState.Succeeded },
        { IncidentState.Verifying, IncidentState.Acting },
        { IncidentState.Verifying, IncidentState.Refused },
        { IncidentState.Acting, IncidentState.Received },
    };

    [Theory]
    [MemberData(nameof(Illegal))]
    public void A_summary_update_making_an_illegal_move_is_refused_and_changes_nothing(IncidentState from, IncidentState to)
    {
        var current = new IncidentRecord { PartitionKey = "i-1", State = from };
        var candidate = current.Copy();

        Assert.False(IncidentStore.Merge(current, candidate, row => { row.State = to; return true; }));
        Assert.Equal(from, current.State);
    }

    [Fact]
    public void Every_pair_of_states_merges_exactly_when_the_table_allows_the_move()
    {
        foreach (var from in Enum.GetValues<IncidentState>())
        {
            foreach (var to in Enum.GetValues<IncidentState>())
            {
                var current = new IncidentRecord { PartitionKey = "i-1", State = from };
                var merged = IncidentStore.Merge(current, current.Copy(), row => { row.State = to; return true; });
                Assert.True(merged == IncidentLifecycle.CanMove(from, to), $"{from} -> {to}: merged {merged}");
            }
        }
    }

    [Fact]
    public void Terminal_states_never_move_and_the_open_ones_are_those_the_pipeline_works_on()
    {
        Assert.Equal([IncidentState.Received, IncidentState.Acting, IncidentState.Verifying, IncidentState.AwaitingApproval], IncidentLifecycle.Open);
        foreach (var state in IncidentLifecycle.All.Where(IncidentLifecycle.IsTerminal))
        {
            Assert.All(IncidentLifecycle.All.Where(s => s != state), to => Assert.False(IncidentLifecycle.CanMove(state, to), $"{state} -> {to}"));
        }
        Assert.True(IncidentLifecycle.CanMove(IncidentState.Received, IncidentState.Acting));
        Assert.True(IncidentLifecycle.CanMove(IncidentState.Acting, IncidentState.Verifying));
        Assert.True(IncidentLifecycle.CanMove(IncidentState.Verifying, IncidentState.Succeeded));
    }

    [Theory]
    [InlineData("Succeeded", true)]
    [InlineData("NoAction", true)]
    [InlineData("succeeded", false)]
    [InlineData("3", false)]
    [InlineData("Missing", false)]
    [InlineData("", false)]
    public void Stored_names_parse_back_exactly(string name, bool parses)
    {
        Assert.Equal(parses, IncidentLifecycle.TryParse(name, out var state));
        if (parses)
        {
            Assert.Equal(name, state.ToString());
        }
    }

    [Fact]
    public void A_resolution_on_a_concluded_incident_keeps_its_state_and_is_written()
    {
        var current = new IncidentRecord { PartitionKey = "i-1", State = IncidentState.Succeeded };
        var candidate = current.Copy();
        Assert.True(IncidentStore.Merge(current, candidate, row => { row.ResolvedAt = DateTimeOffset.UnixEpoch; return true; }));
        Assert.Equal(IncidentState.Succeeded, candidate.State);
    }
}
