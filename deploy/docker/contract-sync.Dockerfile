# syntax=docker/dockerfile:1
# contract-sync: Oneflow webhook ingest and the fetch/publish/sign flows (gRPC :9092).
# Build from the repository root; the Go workspace (go.work) spans several modules:
#   docker build -f deploy/docker/contract-sync.Dockerfile -t flexflow/contract-sync .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY . .
# A static binary (no cgo) for distroless, plus the probe compose uses.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/ \
      ./services/contract-sync/cmd/contract-sync \
      ./deploy/docker/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/contract-sync /out/healthcheck /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
# Inside a container the service must listen on every interface.
ENV CONTRACT_SYNC_ADDR=0.0.0.0:9092
EXPOSE 9092
ENTRYPOINT ["/usr/local/bin/contract-sync"]
