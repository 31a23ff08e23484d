using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Views.Columns;
using Xunit;

namespace ContextLake.Views.Tests.Columns;

public sealed class EventColumnsSpecs
{
    private static readonly IngestEvent Transfer = new("http:writes", 7, new DateTimeOffset(2026, 11, 24, 10, 0, 0, TimeSpan.Zero),
        "transfer", "t-1", EventKind.Event, JsonDocument.Parse("""{"amount": 5, "kind": "shadowed"}""").RootElement);

    [Fact]
    public void data_fields_are_columns()
    {
        Assert.Equal(5, EventColumns.Get(Transfer, "amount")!.Value.GetInt32());
        Assert.Null(EventColumns.Get(Transfer, "missing"));
    }

    [Fact]
    public void built_in_columns_stand_beside_the_data_and_are_never_shadowed_by_it()
    {
        Assert.Equal("event", EventColumns.Get(Transfer, EventColumns.Kind)!.Value.GetString());
        Assert.Equal("t-1", EventColumns.Get(Transfer, EventColumns.EntityId)!.Value.GetString());
        Assert.Equal("2026-11-24T10:00:00.0000000Z", EventColumns.Get(Transfer, EventColumns.EventTime)!.Value.GetString());
    }
}
