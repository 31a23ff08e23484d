// The load-shedding window in front of the write log, on a clock the spec moves: open until the write log refuses
// a batch, shut for the window after each refusal, open again once it has passed.
using ContextLake.Gateway.Writes;
using Xunit;

namespace ContextLake.Gateway.Tests.Writes;

public sealed class SaturationGateSpecs
{
    private sealed class ManualClock : TimeProvider
    {
        public long Now { get; set; } = 1_000_000;

        public override long TimestampFrequency => 1_000_000;

        public override long GetTimestamp() => Now;
    }

    [Fact]
    public void a_refusal_shuts_the_gate_for_the_window_and_no_longer()
    {
        var clock = new ManualClock();
        var gate = new SaturationGate(clock);
        Assert.False(gate.Saturated);

        gate.Refused();
        Assert.True(gate.Saturated);
        clock.Now += (long)SaturationGate.Window.TotalMicroseconds - 1;
        Assert.True(gate.Saturated);
        clock.Now += 1;
        Assert.False(gate.Saturated);

        // Each refusal starts the window again from its own time.
        gate.Refused();
        clock.Now += (long)SaturationGate.Window.TotalMicroseconds / 2;
        gate.Refused();
        clock.Now += (long)SaturationGate.Window.TotalMicroseconds / 2 + 1;
        Assert.True(gate.Saturated);
    }
}
