// One replication session behind a PgCdcSource materialization: prepares publication and slot, copies the
// exported snapshot when the slot is new, then turns pgoutput messages into whole transactions on demand.
using System.Buffers;
using System.Text;
using System.Text.Json;
using Npgsql;
using Npgsql.Replication;
using Npgsql.Replication.PgOutput;
using Npgsql.Replication.PgOutput.Messages;

namespace ContextLake.Connectors.Cdc;

internal sealed class PgCdcReader : ICdcControl
{
    private sealed record Table(string Name, string QuotedName, bool FullIdentity);

    private readonly CdcSettings _settings;
    private readonly string _connectionString;
    private readonly CancellationTokenSource _stop = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _gate = new();

    private volatile LogicalReplicationConnection? _replication;
    private IAsyncEnumerator<PgOutputReplicationMessage>? _messages;
    private CdcTransaction? _snapshot;
    private Task<CdcTransaction?>? _current;
    private Task? _stopping;
    private volatile bool _streaming;
    // Transactions ending at or before this are covered already (by the snapshot or an earlier acknowledgement).
    private ulong _delivered;
    // Where this session started streaming: the slot already holds it, so stopping has nothing to confirm up to here.
    private ulong _startLsn;
    private long _acknowledged;

    public PgCdcReader(CdcSettings settings)
    {
        _settings = settings;
        var builder = new NpgsqlConnectionStringBuilder(settings.ConnectionString);
        // Ours go last: for a setting given twice the later one wins, and the value parsing depends on them.
        builder.Options = $"{builder.Options} {PgTextJson.SessionOptions}".Trim();
        _connectionString = builder.ConnectionString;
    }

    /// <summary>Completes once the session is closed, whoever closed it.</summary>
    public Task Stopped => _stopped.Task;

    /// <summary>The next transaction, or null once stopped. One call at a time (the stage pulls one by one).</summary>
    public Task<CdcTransaction?> NextAsync()
    {
        lock (_gate)
        {
            if (_stopping is not null) return Task.FromResult<CdcTransaction?>(null);
            _current = NextCoreAsync(_stop.Token);
            return _current;
        }
    }

    public void Acknowledge(ulong lsn)
    {
        if (!RaiseAcknowledged(lsn)) return;
        var replication = PublishAcknowledged();
        // Before streaming starts the position rides along with the first status update Npgsql sends.
        if (replication is not null && _streaming) _ = SendStatusAsync(replication);
    }

    /// <summary>Hands the highest acknowledgement to Npgsql; serialized so an older value never overwrites a newer one.</summary>
    private LogicalReplicationConnection? PublishAcknowledged()
    {
        lock (_gate)
        {
            var replication = _replication;
            var acknowledged = (ulong)Interlocked.Read(ref _acknowledged);
            if (replication is not null && acknowledged > 0)
                replication.SetReplicationStatus(CdcLsn.ToNpgsql(acknowledged));
            return replication;
        }
    }

    /// <summary>
    /// Acknowledgements only move forward: PostgreSQL 15 would let a late or repeated one pull the slot's
    /// confirmed position back.
    /// </summary>
    private bool RaiseAcknowledged(ulong lsn)
    {
        var previous = Interlocked.Read(ref _acknowledged);
        while ((ulong)previous < lsn)
        {
            var seen = Interlocked.CompareExchange(ref _acknowledged, (long)lsn, previous);
            if (seen == previous) return true;
            previous = seen;
        }
        return false;
    }

    public Task StopAsync()
    {
        lock (_gate)
        {
            _stopping ??= StopCoreAsync(_current);
            return _stopping;
        }
    }

    private async Task<CdcTransaction?> NextCoreAsync(CancellationToken ct)
    {
        try
        {
            if (_messages is null) await StartAsync(ct);
            if (_snapshot is { } snapshot)
            {
                _snapshot = null;
                return snapshot;
            }
            return await ReadTransactionAsync(_messages!, ct);
        }
        catch (Exception) when (ct.IsCancellationRequested)
        {
            // Stopping cancels the read in flight; whatever it threw on the way out is not a failure.
            return null;
        }
    }

    private async Task StartAsync(CancellationToken ct)
    {
        var tables = await PrepareAsync(ct);
        var existing = await ExistingSlotPositionAsync(ct);

        _replication = new LogicalReplicationConnection(_connectionString);
        await _replication.Open(ct);

        PgOutputReplicationSlot slot;
        if (existing is { } confirmed)
        {
            // Resume: the server redelivers every transaction after the last acknowledged position.
            slot = new PgOutputReplicationSlot(_settings.Slot);
            _delivered = confirmed;
        }
        else
        {
            slot = await _replication.CreatePgOutputReplicationSlot(
                _settings.Slot, temporarySlot: false, slotSnapshotInitMode: LogicalSlotSnapshotInitMode.Export, cancellationToken: ct);
            _delivered = CdcLsn.FromNpgsql(slot.ConsistentPoint);
            try
            {
                // The exported snapshot lives only until this replication connection runs its next command,
                // so the copy finishes before replication starts.
                _snapshot = new CdcTransaction(_delivered, await ReadSnapshotAsync(slot.SnapshotName!, tables, ct));
            }
            catch
            {
                // Without its snapshot the slot would make a later start skip the initial rows: forget it.
                await DropSlotQuietlyAsync();
                throw;
            }
        }

        _startLsn = _delivered;
        // The start position is acknowledged by definition; an earlier acknowledgement below it must not
        // reach the server.
        RaiseAcknowledged(_delivered);
        PublishAcknowledged();
        var options = new PgOutputReplicationOptions(_settings.Publication, PgOutputProtocolVersion.V1);
        _messages = _replication
            .StartReplication(slot, options, ct, CdcLsn.ToNpgsql(_delivered))
            .GetAsyncEnumerator(ct);
        _streaming = true;
    }

    /// <summary>Resolves the tables, gives them full before images and creates the publication when missing.</summary>
    private async Task<IReadOnlyList<Table>> PrepareAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync(ct);

        var tables = new List<Table>();
        foreach (var name in _settings.Tables)
        {
            await using var cmd = new NpgsqlCommand(
                """
                SELECT n.nspname || '.' || c.relname, quote_ident(n.nspname) || '.' || quote_ident(c.relname), c.relreplident = 'f'
                FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.oid = to_regclass($1) AND c.relkind IN ('r', 'p')
                """, conn);
            cmd.Parameters.AddWithValue(name);
            await using var reader = await cmd.ExecuteReaderAsync(ct);
            if (!await reader.ReadAsync(ct))
                throw new InvalidOperationException($"CDC table '{name}' does not exist or is not a table");
            tables.Add(new Table(reader.GetString(0), reader.GetString(1), reader.GetBoolean(2)));
        }

        foreach (var table in tables.Where(t => !t.FullIdentity))
            await ExecuteAsync(conn, $"ALTER TABLE {table.QuotedName} REPLICA IDENTITY FULL", ct);

        await using (var exists = new NpgsqlCommand("SELECT count(*) FROM pg_publication WHERE pubname = $1", conn))
        {
            exists.Parameters.AddWithValue(_settings.Publication);
            if ((long)(await exists.ExecuteScalarAsync(ct))! == 0)
            {
                // Truncates are not published: a change here is always an insert, update or delete of one row.
                var list = string.Join(", ", tables.Select(t => t.QuotedName).Distinct());
                await ExecuteAsync(conn, $"CREATE PUBLICATION {_settings.Publication} FOR TABLE {list} WITH (publish = 'insert, update, delete')", ct);
                return tables;
            }
        }

        // An existing publication is left as it is, but it must cover every table: otherwise the snapshot
        // would hold rows whose later changes silently never arrive.
        await using var missing = new NpgsqlCommand(
            """
            SELECT string_agg(t.name, ', ') FROM unnest($2::text[]) t(name)
            WHERE NOT EXISTS (SELECT 1 FROM pg_publication_tables p WHERE p.pubname = $1 AND p.schemaname || '.' || p.tablename = t.name)
            """, conn);
        missing.Parameters.AddWithValue(_settings.Publication);
        missing.Parameters.AddWithValue(tables.Select(t => t.Name).ToArray());
        if (await missing.ExecuteScalarAsync(ct) is string absent)
            throw new InvalidOperationException($"publication '{_settings.Publication}' exists but does not include {absent}");
        return tables;
    }

    /// <summary>The slot's confirmed position, or null when there is no slot yet.</summary>
    private async Task<ulong?> ExistingSlotPositionAsync(CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync(ct);
        await using var cmd = new NpgsqlCommand(
            "SELECT plugin, database = current_database(), confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = $1", conn);
        cmd.Parameters.AddWithValue(_settings.Slot);
        await using var reader = await cmd.ExecuteReaderAsync(ct);
        if (!await reader.ReadAsync(ct)) return null;
        if (reader.IsDBNull(0) || reader.GetString(0) != "pgoutput" || !reader.GetBoolean(1) || reader.IsDBNull(2))
            throw new InvalidOperationException(
                $"replication slot '{_settings.Slot}' exists but is not a pgoutput logical slot of this database");
        return CdcLsn.Parse(reader.GetString(2));
    }

    /// <summary>Every row of every table as seen by the slot's exported snapshot.</summary>
    private async Task<IReadOnlyList<CdcChange>> ReadSnapshotAsync(string snapshotName, IReadOnlyList<Table> tables, CancellationToken ct)
    {
        await using var conn = new NpgsqlConnection(_connectionString);
        await conn.OpenAsync(ct);
        await ExecuteAsync(conn, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", ct);
        await ExecuteAsync(conn, $"SET TRANSACTION SNAPSHOT '{snapshotName.Replace("'", "''", StringComparison.Ordinal)}'", ct);

        var changes = new List<CdcChange>();
        foreach (var table in tables.DistinctBy(t => t.Name))
        {
            // The columns pgoutput publishes (generated ones are not), read as text like the stream's values.
            var columns = new List<(string Name, uint Type)>();
            await using (var cmd = new NpgsqlCommand(
                """
                SELECT attname, atttypid::int8 FROM pg_attribute
                WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped AND attgenerated = ''
                ORDER BY attnum
                """, conn))
            {
                cmd.Parameters.AddWithValue(table.QuotedName);
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                    columns.Add((reader.GetString(0), (uint)reader.GetInt64(1)));
            }
            if (columns.Count == 0) continue;

            var select = string.Join(", ", columns.Select(c => QuoteIdent(c.Name) + "::text"));
            await using (var cmd = new NpgsqlCommand($"SELECT {select} FROM {table.QuotedName}", conn))
            {
                await using var reader = await cmd.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    var json = new ArrayBufferWriter<byte>();
                    await using (var writer = new Utf8JsonWriter(json))
                    {
                        writer.WriteStartObject();
                        for (var i = 0; i < columns.Count; i++)
                        {
                            if (reader.IsDBNull(i)) writer.WriteNull(columns[i].Name);
                            else PgTextJson.Write(writer, columns[i].Name, columns[i].Type, reader.GetString(i));
                        }
                        writer.WriteEndObject();
                    }
                    changes.Add(new CdcChange(table.Name, CdcChangeKind.Insert, null, PgTextJson.ToRow(json)));
                }
            }
        }
        await ExecuteAsync(conn, "COMMIT", ct);
        return changes;
    }

    /// <summary>Reads messages up to the next commit that carries changes; null when the server ends the stream.</summary>
    private async Task<CdcTransaction?> ReadTransactionAsync(IAsyncEnumerator<PgOutputReplicationMessage> messages, CancellationToken ct)
    {
        List<CdcChange>? changes = null;
        while (await messages.MoveNextAsync())
        {
            // Npgsql recycles message objects: everything needed is copied out before the next MoveNextAsync.
            switch (messages.Current)
            {
                case BeginMessage:
                    changes = [];
                    break;
                case InsertMessage m:
                    Current(changes).Add(new CdcChange(TableName(m.Relation), CdcChangeKind.Insert, null,
                        await ReadRowAsync(m.Relation, m.NewRow, keysOnly: false, unchangedFrom: null, ct)));
                    break;
                case FullUpdateMessage m:
                {
                    var before = await ReadRowAsync(m.Relation, m.OldRow, keysOnly: false, unchangedFrom: null, ct);
                    var after = await ReadRowAsync(m.Relation, m.NewRow, keysOnly: false, unchangedFrom: before, ct);
                    Current(changes).Add(new CdcChange(TableName(m.Relation), CdcChangeKind.Update, before, after));
                    break;
                }
                case IndexUpdateMessage m:
                {
                    // The key changed under a key identity: the old key is all the server sends of the old row.
                    var before = await ReadRowAsync(m.Relation, m.Key, keysOnly: true, unchangedFrom: null, ct);
                    var after = await ReadRowAsync(m.Relation, m.NewRow, keysOnly: false, unchangedFrom: null, ct);
                    Current(changes).Add(new CdcChange(TableName(m.Relation), CdcChangeKind.Update, before, after));
                    break;
                }
                case DefaultUpdateMessage m:
                    Current(changes).Add(new CdcChange(TableName(m.Relation), CdcChangeKind.Update, null,
                        await ReadRowAsync(m.Relation, m.NewRow, keysOnly: false, unchangedFrom: null, ct)));
                    break;
                case FullDeleteMessage m:
                    Current(changes).Add(new CdcChange(TableName(m.Relation), CdcChangeKind.Delete,
                        await ReadRowAsync(m.Relation, m.OldRow, keysOnly: false, unchangedFrom: null, ct), null));
                    break;
                case KeyDeleteMessage m:
                    Current(changes).Add(new CdcChange(TableName(m.Relation), CdcChangeKind.Delete,
                        await ReadRowAsync(m.Relation, m.Key, keysOnly: true, unchangedFrom: null, ct), null));
                    break;
                case CommitMessage commit:
                {
                    var end = CdcLsn.FromNpgsql(commit.TransactionEndLsn);
                    var complete = changes;
                    changes = null;
                    // Guard the promise of strictly increasing LSNs even if the server resends a covered commit.
                    if (complete is not { Count: > 0 } || end <= _delivered) break;
                    _delivered = end;
                    return new CdcTransaction(end, complete);
                }
                default:
                    // Relation and type messages are tracked by Npgsql itself; origin and others carry no rows.
                    break;
            }
        }
        throw new InvalidOperationException($"the server ended replication of slot '{_settings.Slot}'");
    }

    private static List<CdcChange> Current(List<CdcChange>? changes) =>
        changes ?? throw new InvalidOperationException("pgoutput sent a row change outside a transaction");

    private static string TableName(RelationMessage relation) => relation.Namespace + "." + relation.RelationName;

    private static async Task<IReadOnlyDictionary<string, JsonElement>> ReadRowAsync(
        RelationMessage relation, ReplicationTuple tuple, bool keysOnly,
        IReadOnlyDictionary<string, JsonElement>? unchangedFrom, CancellationToken ct)
    {
        var json = new ArrayBufferWriter<byte>();
        await using (var writer = new Utf8JsonWriter(json))
        {
            writer.WriteStartObject();
            var i = 0;
            await foreach (var value in tuple.WithCancellation(ct))
            {
                var column = relation.Columns[i++];
                var isKey = (column.Flags & RelationMessage.Column.ColumnFlags.PartOfKey) != 0;
                switch (value.Kind)
                {
                    case TupleDataKind.Null:
                        if (!keysOnly || isKey) writer.WriteNull(column.ColumnName);
                        break;
                    case TupleDataKind.UnchangedToastedValue:
                        // A large value the update did not touch is not resent; the full old row has it.
                        if (unchangedFrom is not null && unchangedFrom.TryGetValue(column.ColumnName, out var old))
                        {
                            writer.WritePropertyName(column.ColumnName);
                            old.WriteTo(writer);
                        }
                        break;
                    case TupleDataKind.TextValue:
                    {
                        var text = await ReadTextAsync(value, ct);
                        if (!keysOnly || isKey) PgTextJson.Write(writer, column.ColumnName, column.DataTypeId, text);
                        break;
                    }
                    default:
                        throw new InvalidOperationException($"unexpected pgoutput value kind {value.Kind} for {TableName(relation)}.{column.ColumnName}");
                }
            }
            writer.WriteEndObject();
        }
        return PgTextJson.ToRow(json);
    }

    private static async Task<string> ReadTextAsync(ReplicationValue value, CancellationToken ct)
    {
        // The raw text bytes, without asking Npgsql to map the type: unknown and extension types work too.
        await using var stream = value.GetStream();
        using var buffer = new MemoryStream();
        await stream.CopyToAsync(buffer, ct);
        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }

    private async Task SendStatusAsync(LogicalReplicationConnection replication)
    {
        try
        {
            await replication.SendStatusUpdate(CancellationToken.None);
        }
        catch (Exception)
        {
            // Losing one update only delays the slot: Npgsql's periodic updates and the one StopAsync sends
            // carry the same position; a broken connection surfaces as a failed read.
        }
    }

    private async Task StopCoreAsync(Task<CdcTransaction?>? inFlight)
    {
        try
        {
            var replication = _replication;
            var acknowledged = (ulong)Interlocked.Read(ref _acknowledged);
            if (replication is not null && _streaming && acknowledged > _startLsn)
            {
                // Ending replication cancels the walsender, which may drop a status update still unread in
                // its socket; wait until the slot shows the acknowledgement so a restart resumes after it.
                PublishAcknowledged();
                await SendStatusAsync(replication);
                await WaitUntilConfirmedAsync(acknowledged);
            }
            await _stop.CancelAsync();
            if (inFlight is not null)
            {
                try { await inFlight; }
                catch (Exception) { /* the stream reports its own failure; stopping only needs it finished */ }
            }
            if (_messages is not null)
            {
                try { await _messages.DisposeAsync(); }
                catch (Exception) { /* a cancelled replication may refuse a clean shutdown; the connection goes next */ }
            }
            if (replication is not null) await replication.DisposeAsync();
        }
        catch (Exception)
        {
            // Closing is best effort: the server releases the slot when the connection drops either way.
        }
        finally
        {
            _stop.Dispose();
            _stopped.TrySetResult();
        }
    }

    private async Task WaitUntilConfirmedAsync(ulong lsn)
    {
        try
        {
            await using var conn = new NpgsqlConnection(_connectionString);
            await conn.OpenAsync();
            await using var cmd = new NpgsqlCommand(
                "SELECT coalesce(confirmed_flush_lsn >= $1, true) FROM pg_replication_slots WHERE slot_name = $2", conn);
            cmd.Parameters.AddWithValue(CdcLsn.ToNpgsql(lsn));
            cmd.Parameters.AddWithValue(_settings.Slot);
            // Bounded: a walsender that never answers must not keep the stream from stopping.
            for (var attempt = 0; attempt < 100; attempt++)
            {
                if (await cmd.ExecuteScalarAsync() is not false) return;
                await Task.Delay(20);
            }
        }
        catch (Exception)
        {
            // Unconfirmed means redelivered after a restart: at least once, never lost.
        }
    }

    private async Task DropSlotQuietlyAsync()
    {
        try
        {
            await _replication!.DropReplicationSlot(_settings.Slot, wait: false, CancellationToken.None);
        }
        catch (Exception)
        {
            // The failure that brought us here is what the stream reports; a slot left behind is visible in
            // pg_replication_slots and makes the next start resume without a snapshot (see the known limits).
        }
    }

    private static async Task ExecuteAsync(NpgsqlConnection conn, string sql, CancellationToken ct)
    {
        await using var cmd = new NpgsqlCommand(sql, conn);
        await cmd.ExecuteNonQueryAsync(ct);
    }

    private static string QuoteIdent(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";
}
