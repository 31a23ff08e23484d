// PostgreSQL change data capture as an Akka.Streams source: each pull reads exactly one committed
// transaction from the replication slot, so downstream demand, not the server, sets the pace.
using Akka;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;

namespace ContextLake.Connectors.Cdc;

public static class PgCdcSource
{
    /// <summary>
    /// A source of the tables' committed transactions. A new slot starts with one snapshot transaction
    /// holding every existing row; an existing slot resumes after its last acknowledged LSN. Each
    /// materialization opens its own replication connection; the slot admits one at a time.
    /// </summary>
    public static Source<CdcTransaction, ICdcControl> Create(CdcSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        return Source.FromGraph(new PgCdcStage(settings));
    }

    private sealed class PgCdcStage : GraphStageWithMaterializedValue<SourceShape<CdcTransaction>, ICdcControl>
    {
        private readonly CdcSettings _settings;
        private readonly Outlet<CdcTransaction> _out = new("PgCdcSource.out");

        public PgCdcStage(CdcSettings settings)
        {
            _settings = settings;
            Shape = new SourceShape<CdcTransaction>(_out);
        }

        public override SourceShape<CdcTransaction> Shape { get; }

        protected override Attributes InitialAttributes { get; } = Attributes.CreateName("pgCdcSource");

        public override ILogicAndMaterializedValue<ICdcControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
        {
            var reader = new PgCdcReader(_settings);
            return new LogicAndMaterializedValue<ICdcControl>(new Logic(Shape, reader), reader);
        }

        private sealed class Logic : OutGraphStageLogic
        {
            private readonly Outlet<CdcTransaction> _out;
            private readonly PgCdcReader _reader;
            private Action<Task<CdcTransaction?>> _onRead = _ => { };

            public Logic(SourceShape<CdcTransaction> shape, PgCdcReader reader) : base(shape)
            {
                _out = shape.Outlet;
                _reader = reader;
                SetHandler(_out, this);
            }

            public override void PreStart()
            {
                _onRead = GetAsyncCallback<Task<CdcTransaction?>>(OnRead);
                // ICdcControl.StopAsync may arrive while nothing is pulled: completion must not wait for demand.
                var onStopped = GetAsyncCallback(CompleteStage);
                _reader.Stopped.ContinueWith(_ => onStopped(), TaskScheduler.Default);
            }

            public override void OnPull() =>
                _reader.NextAsync().ContinueWith(_onRead, TaskScheduler.Default);

            private void OnRead(Task<CdcTransaction?> read)
            {
                if (read.IsFaulted) FailStage(read.Exception!.GetBaseException());
                else if (read.IsCanceled || read.Result is null) CompleteStage();
                else Push(_out, read.Result);
            }

            public override void PostStop() => _ = _reader.StopAsync();
        }
    }
}
