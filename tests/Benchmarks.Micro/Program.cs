// `dotnet run -c Release --project tests/Benchmarks.Micro [-- --quick]`: the micro-benchmarks alone, as a Markdown table.
using ContextLake.Benchmarks.Micro;

var artifacts = Directory.CreateTempSubdirectory("contextlake-bdn-").FullName;
Console.WriteLine(MicroSuite.RunAsMarkdown(args.Contains("--quick"), artifacts));
return 0;
