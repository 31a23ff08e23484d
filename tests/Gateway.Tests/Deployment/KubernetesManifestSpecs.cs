// k8s/ and the Dockerfile describe one deployment: these specs read every manifest and check that names, ports,
// probes, labels and mounts agree with each other and that each pod's settings are a configuration the node accepts.
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using ContextLake.Gateway.Connectors;
using ContextLake.Platform.Hosting;
using ContextLake.Testing;
using ContextLake.Views.Definitions;
using ContextLake.Views.Sql;
using Npgsql;
using Xunit;

namespace ContextLake.Gateway.Tests.Deployment;

public sealed partial class KubernetesManifestSpecs
{
    private const string Namespace = "contextlake";
    private const string Nodes = "contextlake";
    private const string NodeContainer = "node";
    private const string Config = "contextlake-config";

    private readonly KubernetesManifests _k8s = KubernetesManifests.Load();

    private Manifest StatefulSet => _k8s.Single("StatefulSet", Nodes);
    private int Replicas => int.Parse(Manifest.Str(StatefulSet.Spec["replicas"]));
    private JsonObject PodLabels => (JsonObject)_k8s.PodTemplate(StatefulSet)["metadata"]!["labels"]!;
    private string SettingsJson => _k8s.ConfigFile(Config, "appsettings.json");
    private NodeOptions SettingsOf(int pod) => _k8s.NodeSettings(StatefulSet, NodeContainer, SettingsJson, $"{Nodes}-{pod}");

    private int ContainerPort(string name) => int.Parse(Manifest.Str(
        _k8s.Container(StatefulSet, NodeContainer)["ports"]!.AsArray().Single(p => (string?)p!["name"] == name)!["containerPort"]));

    [Fact]
    public void every_manifest_is_a_named_object_in_the_namespace_and_kustomization_lists_every_file()
    {
        Assert.NotEmpty(_k8s.All);
        foreach (var m in _k8s.All.Where(m => m.File != "kustomization.yaml"))
        {
            Assert.False(string.IsNullOrEmpty((string?)m.Doc["apiVersion"]), $"{m.File}: apiVersion");
            Assert.False(string.IsNullOrEmpty(m.Name), $"{m.File}: metadata.name");
            if (m.Kind == "Namespace") Assert.Equal(Namespace, m.Name);
            else Assert.True(m.Namespace == Namespace, $"{m.File}: {m.Kind} {m.Name} is in namespace '{m.Namespace}', not {Namespace}");
        }
        var listed = _k8s.Single("Kustomization", "").Doc["resources"]!.AsArray().Select(Manifest.Str).Order(StringComparer.Ordinal);
        Assert.Equal(_k8s.Files.Where(f => f != "kustomization.yaml").Order(StringComparer.Ordinal), listed);
    }

    [Fact]
    public void the_seed_nodes_are_the_statefulset_pods_stable_names_under_its_headless_service()
    {
        var governing = Manifest.Str(StatefulSet.Spec["serviceName"]);
        var headless = _k8s.Single("Service", governing);
        Assert.Equal("None", (string?)headless.Spec["clusterIP"]);
        // Seeds must resolve before any node is ready: /readyz needs the cluster that the seeds form.
        Assert.Equal("true", (string?)headless.Spec["publishNotReadyAddresses"]);
        Assert.True(Replicas >= 3, "keep-majority needs at least three nodes to survive the loss of one");

        for (var pod = 0; pod < Replicas; pod++)
        {
            var settings = SettingsOf(pod);
            var expectedHost = $"{Nodes}-{pod}.{governing}.{Namespace}.svc.cluster.local";
            Assert.Equal(expectedHost, settings.Cluster.Hostname);
            var seeds = settings.Cluster.SeedNodes.Select(s => new Uri(s)).ToList();
            Assert.Equal(Replicas, seeds.Count);
            Assert.Equal(Enumerable.Range(0, Replicas).Select(i => $"{Nodes}-{i}.{governing}.{Namespace}.svc.cluster.local"),
                seeds.Select(s => s.Host));
            Assert.All(seeds, s => Assert.Equal(("akka.tcp", settings.Cluster.SystemName), (s.Scheme, s.UserInfo)));
            Assert.All(seeds, s => Assert.Equal(settings.Cluster.Port, s.Port));
        }
    }

    [Fact]
    public void services_and_the_disruption_budget_select_the_node_pods()
    {
        bool Selects(JsonNode? selector) =>
            selector is JsonObject s && s.Count > 0 && s.All(kv => (string?)PodLabels[kv.Key] == (string?)kv.Value);

        Assert.True(Selects(StatefulSet.Spec["selector"]!["matchLabels"]), "the StatefulSet's selector must match its pod labels");
        Assert.True(Selects(_k8s.Single("Service", Nodes + "-nodes").Spec["selector"]), "headless service selector");
        Assert.True(Selects(_k8s.Single("Service", Nodes).Spec["selector"]), "gateway service selector");

        var pdb = _k8s.Single("PodDisruptionBudget", Nodes);
        Assert.True(Selects(pdb.Spec["selector"]!["matchLabels"]), "the disruption budget must select the node pods");
        // A voluntary disruption must leave a majority up, or keep-majority downs the survivors.
        var maxUnavailable = int.Parse(Manifest.Str(pdb.Spec["maxUnavailable"]));
        Assert.True(maxUnavailable <= (Replicas - 1) / 2, $"maxUnavailable {maxUnavailable} of {Replicas} nodes loses the majority");
    }

    [Fact]
    public void service_ports_name_container_ports_that_the_node_settings_and_image_use()
    {
        var settings = SettingsOf(0);
        var httpPort = settings.Http.Urls.Split(';').Select(u => new Uri(u).Port).Single();
        Assert.Equal(httpPort, ContainerPort("http"));
        Assert.Equal(settings.Cluster.Port, ContainerPort("remoting"));
        var resp = _k8s.Settings<ContextLake.Gateway.Resp.RespOptions>(StatefulSet, NodeContainer, SettingsJson, $"{Nodes}-0", ContextLake.Gateway.Resp.RespOptions.Section);
        Assert.Empty(resp.Validate());
        var respEndpoint = Assert.Single(resp.Endpoints());
        Assert.Equal(respEndpoint.Port, ContainerPort("resp"));
        Assert.True(System.Net.IPAddress.Any.Equals(respEndpoint.Address), $"the Redis protocol listens on {respEndpoint}: pods are reached on their pod address, not loopback");

        foreach (var service in _k8s.OfKind("Service").Where(s => (string?)s.Spec["selector"]?["app.kubernetes.io/name"] == Nodes))
            foreach (var port in service.Spec["ports"]!.AsArray())
            {
                var target = Manifest.Str(port!["targetPort"]);
                Assert.True(target is "http" or "remoting" or "resp", $"service {service.Name} targets '{target}', not a named port of the node container");
            }

        var exposed = ExposeLine().Match(_k8s.Dockerfile).Groups[1].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse);
        Assert.Equal(new[] { ContainerPort("http"), ContainerPort("remoting"), ContainerPort("resp") }.Order(), exposed.Order());
    }

    [Fact]
    public void probes_ask_the_node_health_endpoints_on_its_http_port()
    {
        var container = _k8s.Container(StatefulSet, NodeContainer);
        Assert.Equal("/readyz", (string?)container["readinessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/healthz", (string?)container["livenessProbe"]!["httpGet"]!["path"]);
        Assert.Equal("/healthz", (string?)container["startupProbe"]!["httpGet"]!["path"]);
        foreach (var probe in new[] { "readinessProbe", "livenessProbe", "startupProbe" })
            Assert.Equal("http", (string?)container[probe]!["httpGet"]!["port"]);
    }

    [Fact]
    public void every_pod_gets_settings_the_node_accepts_views_that_parse_and_connectors_that_validate()
    {
        for (var pod = 0; pod < Replicas; pod++)
        {
            var settings = SettingsOf(pod);
            Assert.Empty(settings.Validate());
            Assert.Equal(JournalProvider.PostgreSql, settings.Journal.Provider);
            var schemas = SchemaConfig.From(settings.Schemas);
            Assert.NotEmpty(settings.Views);
            foreach (var view in settings.Views) ViewSql.Validate(ViewSql.Parse(view), schemas);
        }

        var connectors = Path.Combine(Path.GetTempPath(), $"k8s-connectors-{Guid.NewGuid():N}.json");
        File.WriteAllText(connectors, _k8s.ConfigFile(Config, "connectors.json"));
        try
        {
            var types = ConfiguredConnectors.BuiltInTypes(() => SettingsOf(0).Kafka.BootstrapServers);
            Assert.NotEmpty(ConfiguredConnectors.Load(connectors, types));
        }
        finally
        {
            File.Delete(connectors);
        }

        // Off loopback the admin API needs its bearer token.
        Assert.False(string.IsNullOrEmpty(_k8s.Environment(StatefulSet, NodeContainer, $"{Nodes}-0").GetValueOrDefault("ContextLake__Admin__Token")));
    }

    [Fact]
    public void the_config_files_are_mounted_where_the_image_runs_the_node()
    {
        var workdir = WorkdirLine().Matches(_k8s.Dockerfile).Last().Groups[1].Value.TrimEnd('/');
        var entry = EntrypointLine().Match(_k8s.Dockerfile).Groups[1].Value;
        Assert.Equal(Path.GetFileName(NodeProcess.GatewayDll), entry);

        var container = _k8s.Container(StatefulSet, NodeContainer);
        var mounts = container["volumeMounts"]!.AsArray().ToDictionary(m => Manifest.Str(m!["subPath"]), m => Manifest.Str(m!["mountPath"]));
        // The node reads appsettings.json and a relative ConnectorsFile from beside its binary (its content root).
        Assert.Equal($"{workdir}/appsettings.json", mounts["appsettings.json"]);
        Assert.Equal($"{workdir}/{SettingsOf(0).ConnectorsFile}", mounts["connectors.json"]);
        var volume = _k8s.PodTemplate(StatefulSet)["spec"]!["volumes"]!.AsArray()
            .Single(v => (string?)v!["name"] == Manifest.Str(container["volumeMounts"]![0]!["name"]))!;
        Assert.Equal(Config, (string?)volume["configMap"]!["name"]);
    }

    [Fact]
    public void the_journal_connection_string_names_the_postgres_service_database_and_user()
    {
        var journal = new NpgsqlConnectionStringBuilder(SettingsOf(0).Journal.ConnectionString);
        var service = _k8s.Single("Service", "postgres");
        Assert.Equal($"{service.Name}.{Namespace}.svc.cluster.local", journal.Host);
        Assert.Equal(journal.Port.ToString(), Manifest.Str(service.Spec["ports"]![0]!["port"]));

        var postgres = _k8s.Single("StatefulSet", "postgres");
        var env = _k8s.Environment(postgres, "postgres", "postgres-0");
        Assert.Equal(env["POSTGRES_DB"], journal.Database);
        Assert.Equal(env["POSTGRES_USER"], journal.Username);
        Assert.Equal(env["POSTGRES_PASSWORD"], journal.Password);
        // postgres-cdc connectors read the same server through logical replication.
        Assert.Contains("wal_level=logical", _k8s.Container(postgres, "postgres")["args"]!.AsArray().Select(a => (string?)a));
    }

    [Fact]
    public void a_terminating_node_has_time_to_leave_gracefully_and_every_container_requests_resources()
    {
        var container = _k8s.Container(StatefulSet, NodeContainer);
        var preStop = container["lifecycle"]!["preStop"]!["exec"]!["command"]!.AsArray().Select(Manifest.Str).ToList();
        Assert.Equal("sleep", preStop[0]);
        var grace = int.Parse(Manifest.Str(_k8s.PodTemplate(StatefulSet)["spec"]!["terminationGracePeriodSeconds"]));
        // After preStop, CoordinatedShutdown hands shards off and leaves the cluster; give it at least 30 s.
        Assert.True(grace >= int.Parse(preStop[1]) + 30, $"terminationGracePeriodSeconds {grace} leaves too little time after preStop");

        foreach (var workload in _k8s.OfKind("StatefulSet"))
            foreach (var c in _k8s.PodTemplate(workload)["spec"]!["containers"]!.AsArray())
            {
                Assert.NotNull(c!["resources"]?["requests"]?["cpu"]);
                Assert.NotNull(c["resources"]?["requests"]?["memory"]);
            }
    }

    [GeneratedRegex(@"^EXPOSE\s+(.+)$", RegexOptions.Multiline)]
    private static partial Regex ExposeLine();

    [GeneratedRegex(@"^WORKDIR\s+(\S+)", RegexOptions.Multiline)]
    private static partial Regex WorkdirLine();

    [GeneratedRegex(@"^ENTRYPOINT\s+\[""dotnet"",\s*""([^""]+)""\]", RegexOptions.Multiline)]
    private static partial Regex EntrypointLine();
}
