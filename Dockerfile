# The node image: build and publish the gateway (which hosts the whole node), run it on the ASP.NET runtime.
# docker build -t contextlake:latest .
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
RUN dotnet publish src/Gateway/ContextLake.Gateway.csproj -c Release -o /out --nologo

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /out .
# HTTP (gateway, /healthz, /readyz, /metrics) and Akka remoting; the settings in appsettings.json name both.
EXPOSE 8080 4053 6379
ENTRYPOINT ["dotnet", "ContextLake.Gateway.dll"]
