// Akka Streams sources over the consumer actor: an outer source of (partition, sub-source) pairs, one
// per assignment, whose sub-sources ask the actor for records only when pulled and end on revocation.
using Akka;
using Akka.Actor;
using Akka.Streams;
using Akka.Streams.Dsl;
using Akka.Streams.Stage;
using Confluent.Kafka;

namespace ContextLake.Connectors.Kafka;

public static class KafkaSources
{
    /// <summary>One sub-source per assigned partition; a sub-source completes when its partition is revoked.
    /// <paramref name="startOffset"/> is asked for each newly assigned partition: an offset to start from,
    /// or null for the group's committed offset (earliest when there is none).</summary>
    public static Source<(TopicPartition Partition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed> Records), IKafkaControl> Partitioned(
        ActorSystem system, KafkaSourceSettings settings, Func<TopicPartition, long?> startOffset)
    {
        ArgumentNullException.ThrowIfNull(system);
        ArgumentNullException.ThrowIfNull(startOffset);
        settings.Validate();
        return Source.FromGraph(new PartitionedSourceStage(system, settings, startOffset));
    }
}

internal sealed class PartitionedSourceStage(ActorSystem system, KafkaSourceSettings settings, Func<TopicPartition, long?> startOffset)
    : GraphStageWithMaterializedValue<SourceShape<(TopicPartition Partition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed> Records)>, IKafkaControl>
{
    private readonly Outlet<(TopicPartition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed>)> _out = new("kafka.partitions");

    public override SourceShape<(TopicPartition Partition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed> Records)> Shape => new(_out);

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafkaPartitionedSource");

    public override ILogicAndMaterializedValue<IKafkaControl> CreateLogicAndMaterializedValue(Attributes inheritedAttributes)
    {
        // Each materialization gets its own consumer, hence its own group member.
        var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var consumer = system.ActorOf(KafkaConsumerActor.Props(settings, startOffset, stopped));
        return new LogicAndMaterializedValue<IKafkaControl>(
            new Logic(this, consumer),
            new KafkaControl(consumer, stopped.Task, settings.CommitTimeout));
    }

    private sealed class Logic : GraphStageLogic
    {
        private readonly PartitionedSourceStage _stage;
        private readonly IActorRef _consumer;
        // Bounded by the partitions assigned to this consumer: one entry per assignment not yet pulled.
        private readonly Queue<(TopicPartition, Source<ConsumeResult<byte[]?, byte[]?>, NotUsed>)> _assigned = new();
        private bool _consumerStopped;

        public Logic(PartitionedSourceStage stage, IActorRef consumer) : base(stage.Shape)
        {
            _stage = stage;
            _consumer = consumer;
            SetHandler(stage._out, onPull: Emit, onDownstreamFinish: _ => CompleteStage());
        }

        public override void PreStart()
        {
            var self = GetStageActor(OnMessage);
            self.Watch(_consumer);
            _consumer.Tell(AttachSource.Instance, self.Ref);
        }

        public override void PostStop()
        {
            // Cancelled or failed downstream: the consumer leaves the group rather than holding partitions nobody reads.
            if (!_consumerStopped) _consumer.Tell(DetachSource.Instance);
        }

        private void OnMessage((IActorRef Sender, object Message) received)
        {
            switch (received.Message)
            {
                case PartitionAssigned assigned:
                    var records = Source.FromGraph(new PartitionSourceStage(_consumer, assigned.Partition, assigned.Epoch));
                    _assigned.Enqueue((assigned.Partition, records));
                    Emit();
                    break;
                case ConsumerStopped { Cause: null }:
                    _consumerStopped = true;
                    CompleteStage();
                    break;
                case ConsumerStopped { Cause: { } cause }:
                    _consumerStopped = true;
                    FailStage(cause);
                    break;
                case Terminated:
                    _consumerStopped = true;
                    FailStage(new InvalidOperationException("the Kafka consumer actor stopped unexpectedly"));
                    break;
            }
        }

        private void Emit()
        {
            if (_assigned.Count > 0 && IsAvailable(_stage._out)) Push(_stage._out, _assigned.Dequeue());
        }
    }
}

internal sealed class PartitionSourceStage(IActorRef consumer, TopicPartition partition, long epoch)
    : GraphStage<SourceShape<ConsumeResult<byte[]?, byte[]?>>>
{
    private IActorRef Consumer { get; } = consumer;
    private TopicPartition Partition { get; } = partition;
    private long Epoch { get; } = epoch;
    private readonly Outlet<ConsumeResult<byte[]?, byte[]?>> _out = new("kafka.partition");

    public override SourceShape<ConsumeResult<byte[]?, byte[]?>> Shape => new(_out);

    protected override Attributes InitialAttributes { get; } = Attributes.CreateName("kafkaPartitionSource");

    protected override GraphStageLogic CreateLogic(Attributes inheritedAttributes) => new Logic(this);

    private sealed class Logic : GraphStageLogic
    {
        private readonly PartitionSourceStage _stage;
        // Holds at most one answered request, which the actor caps at MaxBufferPerPartition.
        private readonly Queue<ConsumeResult<byte[]?, byte[]?>> _records = new();
        private StageActor? _self;
        private bool _requested;
        private bool _revoked;

        public Logic(PartitionSourceStage stage) : base(stage.Shape)
        {
            _stage = stage;
            SetHandler(stage._out, onPull: OnPull, onDownstreamFinish: _ => CompleteStage());
        }

        public override void PreStart()
        {
            _self = GetStageActor(OnMessage);
            _self.Watch(_stage.Consumer);
            _stage.Consumer.Tell(new RegisterPartition(_stage.Partition, _stage.Epoch), _self.Ref);
        }

        public override void PostStop()
        {
            if (!_revoked && _self is not null)
                _stage.Consumer.Tell(new ReleasePartition(_stage.Partition, _stage.Epoch), _self.Ref);
        }

        private void OnPull()
        {
            if (_records.Count > 0)
            {
                Push(_stage._out, _records.Dequeue());
                return;
            }
            // Only a pull with nothing left asks for more: without downstream demand the partition stays paused.
            if (_requested || _self is null) return;
            _requested = true;
            _stage.Consumer.Tell(new RequestRecords(_stage.Partition, _stage.Epoch), _self.Ref);
        }

        private void OnMessage((IActorRef Sender, object Message) received)
        {
            switch (received.Message)
            {
                case PartitionRecords batch when batch.Epoch == _stage.Epoch:
                    _requested = false;
                    foreach (var record in batch.Records) _records.Enqueue(record);
                    if (IsAvailable(_stage._out)) OnPull();
                    break;
                case PartitionRevoked revoked when revoked.Epoch == _stage.Epoch:
                    // The partition belongs to someone else now; records still held here are theirs to deliver.
                    _revoked = true;
                    CompleteStage();
                    break;
                case Status.Failure failure:
                    _revoked = true;
                    FailStage(failure.Cause);
                    break;
                case Terminated:
                    _revoked = true;
                    CompleteStage();
                    break;
            }
        }
    }
}
