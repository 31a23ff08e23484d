// The change one event makes to one group key of one view: weighted rows (+1 adds, -1 retracts).
using ContextLake.Platform.Events;

namespace ContextLake.Views.Algebra;

/// <summary>
/// One weighted row. <see cref="Arguments"/>[i] is the value of the view's aggregate i argument in the row
/// (<see cref="ValueKey.Null"/> when the row lacks it or it is JSON null; always null for COUNT(*)). <see cref="RowVersion"/>
/// orders LAST; <see cref="EventTime"/> places the row in a window. It travels inside its key delta (KeyDeltaJsonConverter).
/// </summary>
public sealed record ViewDelta(int Weight, DateTimeOffset EventTime, EventVersion RowVersion, IReadOnlyList<ValueKey> Arguments);
