# syntax=docker/dockerfile:1
# document-archive: Pending and Signed PDFs into Flex HRM, once (gRPC :9093).
# Build from the repository root; the Go workspace (go.work) spans several modules:
#   docker build -f deploy/docker/document-archive.Dockerfile -t flexflow/document-archive .

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
      ./services/document-archive/cmd/document-archive \
      ./deploy/docker/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/document-archive /out/healthcheck /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
# Inside a container the service must listen on every interface.
ENV DOCUMENT_ARCHIVE_ADDR=0.0.0.0:9093
EXPOSE 9093
ENTRYPOINT ["/usr/local/bin/document-archive"]
