// Each project ships its HOCON defaults as an embedded resource; this reads one, failing loudly if it is missing.
using System.Reflection;
using Akka.Configuration;

namespace ContextLake.Platform.Hosting;

public static class EmbeddedHocon
{
    public static Config Load(Assembly assembly, string resource)
    {
        using var stream = assembly.GetManifestResourceStream(resource)
                           ?? throw new InvalidOperationException($"{resource} is not embedded in {assembly.GetName().Name}");
        using var reader = new StreamReader(stream);
        return ConfigurationFactory.ParseString(reader.ReadToEnd());
    }
}
