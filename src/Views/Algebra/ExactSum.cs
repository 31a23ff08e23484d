// A SUM that does not depend on the order its terms arrive in. A view key's deltas come from many entity partitions,
// interleaved differently on every run and every replay, and decimal addition rounds once a total needs more than
// 28–29 digits: added in one order, +max, -max, +max is max; in another, +max, +max overflows. So a sum is exact: a
// decimal while the exact total is one (almost always, and then it costs one decimal addition and a scale check), and
// an integer count of 10^-28 otherwise, from which the decimal a reader sees is rounded (half to even, as decimal
// parsing rounds) only when it is read. A total outside the decimal range has no value to answer until later terms
// bring it back; the same terms in any order give the same state.
using System.Globalization;
using System.Numerics;

namespace ContextLake.Views.Algebra;

internal readonly struct ExactSum : IEquatable<ExactSum>
{
    /// <summary>Every number an event can carry is a decimal, so a multiple of 10^-28: the unit of the exact form.</summary>
    private const int Scale = 28;

    private static readonly BigInteger One = BigInteger.Pow(10, Scale);

    /// <summary>The total when it is exactly a decimal (normalised: no trailing zeros); otherwise the nearest one, or 0 when out of range.</summary>
    private readonly decimal _value;

    /// <summary>The total in units of 10^-28 when it is not exactly a decimal, <see cref="LostMark"/> when unknown; null otherwise.</summary>
    private readonly Units? _units;

    private sealed class Units(BigInteger count)
    {
        public BigInteger Count { get; } = count;
    }

    private static readonly Units LostMark = new(BigInteger.Zero);

    private ExactSum(decimal value, Units? units)
    {
        _value = value;
        _units = units;
    }

    public static ExactSum Zero => default;

    /// <summary>
    /// A total whose exact value an earlier version of the engine did not keep (its snapshots marked a SUM that left the range
    /// as overflowed): it never answers a number again.
    /// </summary>
    public static ExactSum Unknown { get; } = new(0m, LostMark);

    public bool Lost => ReferenceEquals(_units, LostMark);

    public bool IsZero => _value == 0m && _units is null;

    /// <summary>The exact total in units of 10^-28 when it is not a decimal (the durable form keeps it), else null.</summary>
    public BigInteger? Beyond => _units is { } u && !Lost ? u.Count : null;

    /// <summary>A total that is exactly <paramref name="value"/>.</summary>
    public static ExactSum Of(decimal value) => new(Decimals.Normalise(value), null);

    /// <summary>A total given in units of 10^-28, as <see cref="Beyond"/> gave it.</summary>
    public static ExactSum OfUnits(BigInteger units) => FromUnits(units);

    /// <summary>The total as a reader sees it: the nearest decimal. Throws <see cref="OverflowException"/> when it has none.</summary>
    public decimal Value
    {
        get
        {
            if (Lost) throw new OverflowException();
            return _units is { } units ? Round(units.Count) : _value;
        }
    }

    /// <summary>This total plus <paramref name="weight"/> × <paramref name="term"/>.</summary>
    public ExactSum Add(decimal term, int weight)
    {
        if (Lost) return this;
        if (_units is null)
        {
            try
            {
                var product = weight switch { 1 => term, -1 => -term, _ => weight * term };
                var sum = _value + product;
                // Decimal addition keeps the larger scale unless it had to round (and multiplication adds scales):
                // a smaller scale means a digit was lost, and the exact form takes over.
                if ((weight is 1 or -1 || product.Scale == term.Scale) && sum.Scale == Math.Max(_value.Scale, product.Scale))
                    return new ExactSum(Decimals.Normalise(sum), null);
            }
            catch (OverflowException)
            {
            }
        }
        return FromUnits(UnitCount() + weight * UnitsOf(term));
    }

    /// <summary>This total plus <paramref name="other"/>.</summary>
    public ExactSum Add(ExactSum other)
    {
        if (Lost || other.Lost) return Unknown;
        return other._units is null ? Add(other._value, 1) : FromUnits(UnitCount() + other._units.Count);
    }

    private BigInteger UnitCount() => _units?.Count ?? UnitsOf(_value);

    private static BigInteger UnitsOf(decimal d)
    {
        Span<int> bits = stackalloc int[4];
        decimal.GetBits(d, bits);
        var mantissa = ((BigInteger)(uint)bits[2] << 64) | ((BigInteger)(uint)bits[1] << 32) | (uint)bits[0];
        var units = mantissa * BigInteger.Pow(10, Scale - d.Scale);
        return d < 0 ? -units : units;
    }

    /// <summary>The canonical form of a total: a decimal when it is exactly one, else its units beside the nearest decimal.</summary>
    private static ExactSum FromUnits(BigInteger units)
    {
        decimal nearest;
        try
        {
            nearest = Round(units);
        }
        catch (OverflowException)
        {
            return new ExactSum(0m, new Units(units));
        }
        return UnitsOf(nearest) == units ? new ExactSum(nearest, null) : new ExactSum(nearest, new Units(units));
    }

    /// <summary>The decimal nearest to <paramref name="units"/> × 10^-28, half to even; <see cref="OverflowException"/> beyond the range.</summary>
    private static decimal Round(BigInteger units)
    {
        var whole = BigInteger.DivRem(BigInteger.Abs(units), One, out var fraction);
        var text = $"{(units.Sign < 0 ? "-" : "")}{whole}.{fraction.ToString(CultureInfo.InvariantCulture).PadLeft(Scale, '0')}";
        return Decimals.Normalise(decimal.Parse(text, NumberStyles.Number, CultureInfo.InvariantCulture));
    }

    public bool Equals(ExactSum other) =>
        _value == other._value && (ReferenceEquals(_units, other._units) || (_units is { } u && other._units is { } o && !Lost && !other.Lost && u.Count == o.Count));

    public override bool Equals(object? obj) => obj is ExactSum other && Equals(other);

    public override int GetHashCode() => HashCode.Combine(_value, Beyond, Lost);

    public static bool operator ==(ExactSum left, ExactSum right) => left.Equals(right);

    public static bool operator !=(ExactSum left, ExactSum right) => !left.Equals(right);
}
