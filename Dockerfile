FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
COPY . .
# For the build's own runtime, so the image ships ReadyToRun code (src/DataPlane/DataPlane.csproj).
RUN dotnet publish src/DataPlane -c Release --use-current-runtime -o /app

FROM mcr.microsoft.com/dotnet/aspnet:10.0
WORKDIR /app
COPY --from=build /app .
EXPOSE 8181
ENTRYPOINT ["dotnet", "dataplane.dll", "serve"]
