# syntax=docker/dockerfile:1
# gateway: the HTTP edge: Oneflow webhooks, REST, OpenAPI, /healthz (HTTP :8080).
# Build from the repository root; the Go workspace (go.work) spans several modules:
#   docker build -f deploy/docker/gateway.Dockerfile -t flexflow/gateway .

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
      ./gateway/cmd/gateway \
      ./deploy/docker/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/gateway /out/healthcheck /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
# Inside a container the service must listen on every interface.
ENV GATEWAY_ADDR=0.0.0.0:8080
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/gateway"]
