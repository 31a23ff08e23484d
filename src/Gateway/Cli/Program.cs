// contextlake: operate a ContextLake cluster from a terminal or a script (see README, "Operations").
using ContextLake.Cli;

return await ToolCommands.RunAsync(args, Console.Out, Console.Error);
