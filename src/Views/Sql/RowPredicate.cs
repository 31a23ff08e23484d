// Evaluating a WHERE over one row with SQL's three-valued logic: anything unknown (null, missing, mismatched) keeps the row out.
using System.Globalization;
using System.Text.Json;
using ContextLake.Platform.Events;
using ContextLake.Views.Definitions;

namespace ContextLake.Views.Sql;

public static class RowPredicate
{
    // Objects and arrays are values (IS NULL is false for them) but compare with nothing.
    private sealed class Opaque
    {
        public static readonly Opaque Instance = new();
    }

    /// <summary>True only when <paramref name="where"/> is definitely true for the row; <paramref name="column"/> returns null for a missing column.</summary>
    public static bool Matches(Expr where, Func<string, JsonElement?> column)
    {
        ArgumentNullException.ThrowIfNull(where);
        ArgumentNullException.ThrowIfNull(column);
        return Truth(Evaluate(where, column)) == true;
    }

    /// <summary>Whether a string looks like an ISO-8601 timestamp (yyyy-MM-dd...), the form time columns take.</summary>
    internal static bool IsTimestamp(string text) => TryTimestamp(text, out _);

    private static object? Evaluate(Expr expr, Func<string, JsonElement?> column) => expr switch
    {
        ColumnRef c => FromJson(column(c.Name)),
        Literal l => l.Value,
        Not n => Truth(Evaluate(n.Operand, column)) is { } b ? !b : null,
        IsNull i => (Evaluate(i.Operand, column) is null) != i.Negated,
        Binary { Op: "AND" } b => And(Truth(Evaluate(b.Left, column)), Truth(Evaluate(b.Right, column))),
        Binary { Op: "OR" } b => Or(Truth(Evaluate(b.Left, column)), Truth(Evaluate(b.Right, column))),
        Binary b => Compare(b.Op, Evaluate(b.Left, column), Evaluate(b.Right, column)),
        InList i => In(Evaluate(i.Operand, column), i.Items.Select(item => Evaluate(item, column)), i.Negated),
        _ => null,
    };

    private static object? FromJson(JsonElement? element)
    {
        if (element is not { } e)
            return null;
        return e.ValueKind switch
        {
            JsonValueKind.Null or JsonValueKind.Undefined => null,
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            JsonValueKind.String => e.GetString(),
            // A number beyond decimal's range cannot be compared exactly, so it is unknown rather than rounded.
            JsonValueKind.Number => e.TryGetDecimal(out var d) ? d : Opaque.Instance,
            _ => Opaque.Instance,
        };
    }

    private static bool? Truth(object? value) => value as bool?;

    private static bool? And(bool? left, bool? right) =>
        left == false || right == false ? false : left == true && right == true ? true : null;

    private static bool? Or(bool? left, bool? right) =>
        left == true || right == true ? true : left == false && right == false ? false : null;

    private static bool? In(object? operand, IEnumerable<object?> items, bool negated)
    {
        if (operand is null)
            return null;
        var unknown = false;
        foreach (var item in items)
        {
            var equal = Compare("=", operand, item);
            if (equal == true)
                return !negated;
            unknown |= equal is null;
        }
        return unknown ? null : negated;
    }

    private static bool? Compare(string op, object? left, object? right)
    {
        if (OrderOf(left, right) is not { } order)
            return null;
        return op switch
        {
            "=" => order == 0,
            "<>" => order != 0,
            "<" => order < 0,
            "<=" => order <= 0,
            ">" => order > 0,
            ">=" => order >= 0,
            _ => null,
        };
    }

    private static int? OrderOf(object? left, object? right) => (left, right) switch
    {
        (decimal l, decimal r) => l.CompareTo(r),
        (bool l, bool r) => l.CompareTo(r),
        (string l, string r) when TryTimestamp(l, out var lt) && TryTimestamp(r, out var rt) => lt.CompareTo(rt),
        (string l, string r) => string.CompareOrdinal(l, r),
        _ => null,
    };

    private static bool TryTimestamp(string text, out DateTimeOffset value) => EventAdmission.TryTimestamp(text, out value);
}
