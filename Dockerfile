# The kernelsim command in a container image, for campaign shards on Kubernetes (deploy/kubernetes/) or any
# container engine. Build from the repository root:
#   docker build --build-arg KERNELSIM_COMMIT=$(git rev-parse HEAD) -t kernelsim .
# KERNELSIM_COMMIT becomes the simulator version's commit (.git is not copied: Directory.Build.targets).
FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
ARG KERNELSIM_COMMIT=unknown
WORKDIR /src
COPY . .
RUN dotnet publish KernelSim.Cli -c Release -o /app -p:KERNELSIM_COMMIT=${KERNELSIM_COMMIT}

FROM mcr.microsoft.com/dotnet/runtime:10.0
COPY --from=build /app /app
COPY campaigns /campaigns
# Results go to a mounted volume; the process runs as an unprivileged user.
RUN mkdir /results && chown 65534:65534 /results
USER 65534:65534
WORKDIR /results
ENTRYPOINT ["dotnet", "/app/kernelsim.dll"]
CMD ["--help"]
