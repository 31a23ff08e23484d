// The size limits of a view definition, each a setting (ContextLake:Limits) named in the refusal: a view's name and
// its columns' names, its aggregates, and how many views one entity type feeds (every event of the type is projected
// into each of them, so that count multiplies the cost of every write).
using ContextLake.Platform.Hosting;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Sql;

public static partial class ViewSql
{
    /// <summary>Refuses a definition text longer than <see cref="LimitOptions.MaxViewSqlLength"/>, before it is parsed.</summary>
    public static void CheckLength(string sql, LimitOptions limits)
    {
        if (sql.Length > limits.MaxViewSqlLength)
            throw new ViewDefinitionException(
                $"the definition has {sql.Length} characters; at most {limits.MaxViewSqlLength} are accepted (setting ContextLake:Limits:MaxViewSqlLength)", 1, 1);
    }

    /// <summary>
    /// Checks <paramref name="view"/> against <paramref name="limits"/>, given the views that already read its source;
    /// throws <see cref="ViewDefinitionException"/> naming the setting.
    /// </summary>
    public static void CheckLimits(ViewDefinition view, LimitOptions limits, int viewsOnSource)
    {
        var map = MapOf(view);
        if (view.Name.Length > limits.MaxNameLength)
            throw Error(SourcePos.Unknown, $"the view name has {view.Name.Length} characters; at most {limits.MaxNameLength} are accepted (setting ContextLake:Limits:MaxNameLength)");
        if (limits.NameTooLong("column", view.KeyAlias) is { } keyTooLong)
            throw Error(map.Key, keyTooLong);
        for (var i = 0; i < view.Aggregates.Count; i++)
        {
            if (limits.NameTooLong("column", view.Aggregates[i].Alias) is { } aliasTooLong)
                throw Error(i < map.AggregateArguments.Count ? map.AggregateArguments[i] : SourcePos.Unknown, aliasTooLong);
        }
        if (view.Aggregates.Count > limits.MaxAggregates)
            throw Error(limits.MaxAggregates < map.AggregateArguments.Count ? map.AggregateArguments[limits.MaxAggregates] : SourcePos.Unknown,
                $"the view has {view.Aggregates.Count} aggregates; at most {limits.MaxAggregates} are accepted (setting ContextLake:Limits:MaxAggregates)");
        if (TooManyOnSource(view.Source, viewsOnSource, limits) is { } tooMany) throw Error(map.Source, tooMany);
    }

    /// <summary>
    /// Why one more view cannot read <paramref name="source"/> when <paramref name="viewsOnSource"/> already do, or null. The
    /// view catalog applies it too, to the views it has journaled, so creates that race past the HTTP check are refused there.
    /// </summary>
    public static string? TooManyOnSource(string source, int viewsOnSource, LimitOptions limits) =>
        viewsOnSource >= limits.MaxViewsPerSource
            ? $"{viewsOnSource} views already read '{source}'; at most {limits.MaxViewsPerSource} may (setting ContextLake:Limits:MaxViewsPerSource): drop one first"
            : null;
}
