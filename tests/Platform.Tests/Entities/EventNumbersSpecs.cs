// The numeric model at the edge: every number in an event's data must be a decimal; the first one that is
// not is named by its path, wherever it is nested.
using System.Text.Json;
using ContextLake.Platform.Events;
using Xunit;

namespace ContextLake.Platform.Tests.Entities;

public sealed class EventNumbersSpecs
{
    private static string? Check(string json) => EventNumbers.FirstOutOfRange(JsonDocument.Parse(json).RootElement);

    [Theory]
    [InlineData("""{"amount": 12.5, "n": -79228162514264337593543950335, "tiny": 1e-40, "s": "1e300", "flag": true}""")]
    [InlineData("""{"limits": {"daily": 1e20}, "scores": [0.5, 1, 2e-8]}""")]
    public void numbers_inside_the_decimal_range_pass(string data) => Assert.Null(Check(data));

    [Theory]
    [InlineData("""{"amount": 1e300}""", "amount: 1e300 is outside the numeric range")]
    [InlineData("""{"ok": 1, "limits": {"daily": 79228162514264337593543950336}}""", "limits.daily: 79228162514264337593543950336 is outside")]
    [InlineData("""{"scores": [1, 2, -1e29]}""", "scores[2]: -1e29 is outside")]
    [InlineData("""{"rows": [{"v": 1}, {"v": 1e99}]}""", "rows[1].v: 1e99 is outside")]
    public void the_first_number_outside_it_is_named_by_its_path(string data, string expected) =>
        Assert.StartsWith(expected, Check(data));
}
