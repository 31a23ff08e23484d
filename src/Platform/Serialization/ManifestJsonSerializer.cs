// Akka serializer base: System.Text.Json source-generated contracts, one short manifest per type,
// so journal rows never depend on CLR type names and a renamed class does not orphan old events.
// Actor references (a run tracker to answer) travel as Akka's serialized actor paths.
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Akka.Actor;
using Akka.Serialization;
using SerializationException = System.Runtime.Serialization.SerializationException;

namespace ContextLake.Platform.Serialization;

public abstract class ManifestJsonSerializer : SerializerWithStringManifest
{
    private readonly Dictionary<Type, (string Manifest, JsonTypeInfo Info)> _byType = new();
    private readonly Dictionary<string, JsonTypeInfo> _byManifest = new(StringComparer.Ordinal);

    protected ManifestJsonSerializer(ExtendedActorSystem system) : base(system) { }

    /// <summary>Options for a source-generated context: the context's own, plus actor references as paths.</summary>
    protected JsonSerializerOptions OptionsFrom(JsonSerializerOptions contextOptions) =>
        new(contextOptions) { Converters = { new ActorRefConverter(system) } };

    /// <summary>Registers a type under a manifest that must never change once rows carry it.</summary>
    protected void Register<T>(string manifest, JsonTypeInfo<T> info)
    {
        _byType.Add(typeof(T), (manifest, info));
        _byManifest.Add(manifest, info);
    }

    public override string Manifest(object o) =>
        _byType.TryGetValue(o.GetType(), out var entry)
            ? entry.Manifest
            : throw new SerializationException($"{GetType().Name} has no manifest for {o.GetType().FullName}");

    public override byte[] ToBinary(object obj) =>
        _byType.TryGetValue(obj.GetType(), out var entry)
            ? JsonSerializer.SerializeToUtf8Bytes(obj, entry.Info)
            : throw new SerializationException($"{GetType().Name} cannot serialize {obj.GetType().FullName}");

    public override object FromBinary(byte[] bytes, string manifest) =>
        _byManifest.TryGetValue(manifest, out var info)
            ? JsonSerializer.Deserialize(bytes, info)
              ?? throw new SerializationException($"manifest '{manifest}' decoded to null")
            : throw new SerializationException($"{GetType().Name} does not know manifest '{manifest}'");

    private sealed class ActorRefConverter(ExtendedActorSystem system) : JsonConverter<IActorRef>
    {
        public override IActorRef? Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options) =>
            reader.TokenType == JsonTokenType.Null ? null : system.Provider.ResolveActorRef(reader.GetString()!);

        public override void Write(Utf8JsonWriter writer, IActorRef value, JsonSerializerOptions options) =>
            writer.WriteStringValue(Akka.Serialization.Serialization.SerializedActorPath(value));
    }
}
