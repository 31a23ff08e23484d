// contextlake: operate a ContextLake cluster from a terminal or a script (see docs/operations.md, "Admin API and CLI").
using ContextLake.Cli;

return await ToolCommands.RunAsync(args, Console.Out, Console.Error);
