# syntax=docker/dockerfile:1
# flexflowctl: the operator's command-line tool (status, replay, failures,
# documents, employee, health) over gRPC. It serves nothing: run it next to
# the services, e.g.
#   docker compose -f deploy/compose/compose.yaml run --rm flexflowctl status 4711
# Build from the repository root; the Go workspace (go.work) spans several modules:
#   docker build -f deploy/docker/flexflowctl.Dockerfile -t flexflow/flexflowctl .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/ \
      ./deploy/cmd/flexflowctl

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flexflowctl /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
ENTRYPOINT ["/usr/local/bin/flexflowctl"]
CMD ["--help"]
