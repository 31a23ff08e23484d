// The deployment as Kubernetes reads it: every YAML document under k8s/ (as JSON nodes, so a spec can walk
// spec.template.spec…), the Dockerfile, and the node settings a given pod of the StatefulSet ends up with.
using System.Text.Json.Nodes;
using ContextLake.Platform.Hosting;
using Microsoft.Extensions.Configuration;
using YamlDotNet.RepresentationModel;

namespace ContextLake.Gateway.Tests.Deployment;

public sealed record Manifest(string File, JsonObject Doc)
{
    public string Kind => Str(Doc["kind"]);
    public string Name => (string?)Doc["metadata"]?["name"] ?? "";
    public string? Namespace => (string?)Doc["metadata"]?["namespace"];
    public JsonNode Spec => Doc["spec"] ?? throw new InvalidOperationException($"{File}: {Kind} {Name} has no spec");

    public static string Str(JsonNode? node) => (string?)node ?? throw new InvalidOperationException("missing value");
}

public sealed class KubernetesManifests
{
    private KubernetesManifests(string root, IReadOnlyList<Manifest> all, IReadOnlyList<string> files)
    {
        Root = root;
        All = all;
        Files = files;
    }

    public string Root { get; }
    public IReadOnlyList<Manifest> All { get; }

    /// <summary>The YAML files of k8s/, by name.</summary>
    public IReadOnlyList<string> Files { get; }

    public string Dockerfile => File.ReadAllText(Path.Combine(Root, "Dockerfile"));

    public static KubernetesManifests Load()
    {
        var root = new DirectoryInfo(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "ContextLake.sln"))) root = root.Parent;
        if (root is null) throw new InvalidOperationException("ContextLake.sln not found above " + AppContext.BaseDirectory);
        var files = Directory.GetFiles(Path.Combine(root.FullName, "k8s"), "*.yaml").Order(StringComparer.Ordinal).ToList();
        var all = new List<Manifest>();
        foreach (var file in files)
        {
            var yaml = new YamlStream();
            using (var reader = new StreamReader(file)) yaml.Load(reader);
            foreach (var doc in yaml.Documents)
            {
                if (ToJson(doc.RootNode) is JsonObject o) all.Add(new Manifest(Path.GetFileName(file), o));
                else throw new InvalidOperationException($"{file}: a document is not a mapping");
            }
        }
        return new KubernetesManifests(root.FullName, all, files.Select(f => Path.GetFileName(f)!).ToList());
    }

    public Manifest Single(string kind, string name) =>
        All.SingleOrDefault(m => m.Kind == kind && m.Name == name) ?? throw new InvalidOperationException($"no {kind} named {name} in k8s/");

    public IEnumerable<Manifest> OfKind(string kind) => All.Where(m => m.Kind == kind);

    public JsonObject PodTemplate(Manifest workload) => (JsonObject)workload.Spec["template"]!;

    public JsonObject Container(Manifest workload, string name) =>
        (JsonObject)PodTemplate(workload)["spec"]!["containers"]!.AsArray().Single(c => (string?)c!["name"] == name)!;

    /// <summary>A secret's value as the pod sees it (stringData, the form the manifests use).</summary>
    public string SecretValue(string secret, string key) =>
        (string?)Single("Secret", secret).Doc["stringData"]?[key] ?? throw new InvalidOperationException($"secret {secret} has no key {key}");

    /// <summary>The container's environment with $(VAR) references and secretKeyRefs resolved for one pod.</summary>
    public IReadOnlyDictionary<string, string> Environment(Manifest workload, string container, string podName)
    {
        var env = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var e in Container(workload, container)["env"]?.AsArray() ?? [])
        {
            var name = Manifest.Str(e!["name"]);
            if (e["value"] is { } v)
                env[name] = Manifest.Str(v).Replace("$(POD_NAME)", podName, StringComparison.Ordinal);
            else if (e["valueFrom"]?["fieldRef"]?["fieldPath"] is { } field && (string?)field == "metadata.name")
                env[name] = podName;
            else if (e["valueFrom"]?["secretKeyRef"] is { } secret)
                env[name] = SecretValue(Manifest.Str(secret["name"]), Manifest.Str(secret["key"]));
            else
                throw new InvalidOperationException($"env {name}: a source this test does not know");
        }
        return env;
    }

    /// <summary>A file of a ConfigMap.</summary>
    public string ConfigFile(string configMap, string key) =>
        (string?)Single("ConfigMap", configMap).Doc["data"]?[key] ?? throw new InvalidOperationException($"configmap {configMap} has no {key}");

    /// <summary>What the node in pod <paramref name="podName"/> binds: the mounted settings file, then its environment
    /// (ContextLake__A__B is ContextLake:A:B), exactly the order ASP.NET's configuration applies them.</summary>
    public NodeOptions NodeSettings(Manifest workload, string container, string settingsJson, string podName) =>
        Settings<NodeOptions>(workload, container, settingsJson, podName, NodeOptions.Section);

    /// <summary>One section of what the node in pod <paramref name="podName"/> binds (e.g. ContextLake:Resp), as <see cref="NodeSettings"/>.</summary>
    public T Settings<T>(Manifest workload, string container, string settingsJson, string podName, string section) where T : new()
    {
        var env = Environment(workload, container, podName)
            .Where(kv => kv.Key.StartsWith(NodeOptions.Section + "__", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key.Replace("__", ":", StringComparison.Ordinal), kv => (string?)kv.Value);
        using var json = new MemoryStream(System.Text.Encoding.UTF8.GetBytes(settingsJson));
        var configuration = new ConfigurationBuilder().AddJsonStream(json).AddInMemoryCollection(env).Build();
        return configuration.GetSection(section).Get<T>() ?? new T();
    }

    private static JsonNode? ToJson(YamlNode node) => node switch
    {
        YamlMappingNode map => new JsonObject(map.Children.Select(kv =>
            KeyValuePair.Create(((YamlScalarNode)kv.Key).Value!, ToJson(kv.Value)))),
        YamlSequenceNode seq => new JsonArray(seq.Children.Select(ToJson).ToArray()),
        YamlScalarNode scalar => scalar.Value is null ? null : JsonValue.Create(scalar.Value),
        _ => throw new InvalidOperationException($"unexpected YAML node {node.NodeType}"),
    };
}
