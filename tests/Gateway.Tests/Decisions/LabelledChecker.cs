// A decision checker for the reconciliation specs, in place of the real one (which recomputes each read from the
// journal and is written elsewhere): the outcome is the one the spec wrote into the decision's labels
// ("expect": "unchanged", "changed", "defect", "not-checkable", or "fail" to make the checker throw), so every
// spec knows what each decision must come out as. It records the batches it was given, in order, and a gate can
// hold its batches from the Nth on, so a spec can watch a job half done.
using System.Text.Json;
using System.Text.Json.Nodes;
using ContextLake.Gateway.Decisions;

namespace ContextLake.Gateway.Tests.Decisions;

public sealed class LabelledChecker : IDecisionChecker
{
    private readonly List<IReadOnlyList<string>> _batches = [];

    /// <summary>When set, batches from <see cref="CheckerGate.PassFirst"/> on wait for it to open.</summary>
    public CheckerGate? Gate { get; set; }

    /// <summary>The ids of every batch checked so far, in the order they came.</summary>
    public IReadOnlyList<IReadOnlyList<string>> Batches
    {
        get { lock (_batches) return [.. _batches]; }
    }

    /// <summary>A decision's request as a spec records it: one view read per key, and the expected outcome in its labels.</summary>
    public static string Request(string id, string expect, params string[] keys) => JsonSerializer.Serialize(new
    {
        decision = id,
        labels = new { expect },
        reads = keys.Select(k => new { view = "credits", key = k }).ToArray(),
    });

    /// <summary>The answer recorded with <see cref="Request"/>: one result per read.</summary>
    public static string Answer(string id, params string[] keys) => JsonSerializer.Serialize(new
    {
        epoch = new { n = 7 },
        results = keys.Select(k => new { view = "credits", key = k, values = new { total = 10, n = 1 } }).ToArray(),
        decision = id,
    });

    public async Task<IReadOnlyList<DecisionCheck>> CheckAsync(IReadOnlyList<DecisionRecord> decisions, CancellationToken cancel)
    {
        int index;
        lock (_batches)
        {
            index = _batches.Count;
            _batches.Add(decisions.Select(d => d.Id).ToList());
        }
        if (Gate is { } gate) await gate.PassAsync(index, cancel);
        return decisions.Select(Check).ToList();
    }

    private static DecisionCheck Check(DecisionRecord decision)
    {
        using var request = JsonDocument.Parse(decision.Request);
        using var answer = JsonDocument.Parse(decision.Answer);
        var expect = request.RootElement.GetProperty("labels").GetProperty("expect").GetString();
        var outcome = expect switch
        {
            "unchanged" => CheckOutcome.Unchanged,
            "changed" => CheckOutcome.Changed,
            "defect" => CheckOutcome.Defect,
            "not-checkable" => CheckOutcome.NotCheckable,
            _ => throw new InvalidOperationException($"decision '{decision.Id}' cannot be checked: its label expects '{expect}'"),
        };
        if (outcome == CheckOutcome.NotCheckable)
            return new DecisionCheck(decision.Id, decision.RecordedAt, decision.Epoch, outcome, [], "its view no longer exists");
        var reads = request.RootElement.GetProperty("reads").EnumerateArray().Select((read, i) =>
        {
            var answered = answer.RootElement.GetProperty("results")[i].Clone();
            // A changed read has a later total; a defect's replay at the epoch is off by one.
            var moved = JsonNode.Parse(answered.GetRawText())!;
            moved["values"]!["total"] = outcome == CheckOutcome.Defect ? 11 : 15;
            var other = JsonSerializer.SerializeToElement(moved);
            return new ReadCheck($"reads[{i}]", $"view credits key {read.GetProperty("key").GetString()}", outcome != CheckOutcome.Defect, answered,
                outcome == CheckOutcome.Defect ? other : answered, outcome == CheckOutcome.Changed ? other : answered,
                outcome == CheckOutcome.Changed ? ["total"] : []);
        }).ToList();
        return new DecisionCheck(decision.Id, decision.RecordedAt, decision.Epoch, outcome, reads);
    }
}

/// <summary>Holds a checker's batches from the <see cref="PassFirst"/>th on (counting from 0) until it is opened.</summary>
public sealed class CheckerGate
{
    private readonly TaskCompletionSource _open = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _reached = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public int PassFirst { get; init; }

    /// <summary>Completes once a batch waits at the gate.</summary>
    public Task Reached => _reached.Task;

    public void Open() => _open.TrySetResult();

    internal async Task PassAsync(int batch, CancellationToken cancel)
    {
        if (batch < PassFirst) return;
        _reached.TrySetResult();
        await _open.Task.WaitAsync(cancel);
    }
}
