// Parameters of ContextLake's own SQL against the journal's database, the same on SQLite and PostgreSQL.
using System.Data.Common;

namespace ContextLake.Platform.Journal;

public static class DbCommands
{
    /// <summary>Adds the parameter @<paramref name="name"/> with <paramref name="value"/>.</summary>
    public static void AddParameter(this DbCommand cmd, string name, object value)
    {
        var p = cmd.CreateParameter();
        p.ParameterName = name;
        p.Value = value;
        cmd.Parameters.Add(p);
    }
}
