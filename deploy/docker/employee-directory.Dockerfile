# syntax=docker/dockerfile:1
# employee-directory: flexflow's gRPC window onto Flex HRM employees (gRPC :9091).
# Build from the repository root; the Go workspace (go.work) spans several modules:
#   docker build -f deploy/docker/employee-directory.Dockerfile -t flexflow/employee-directory .

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
      ./services/employee-directory/cmd/employee-directory \
      ./deploy/docker/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/employee-directory /out/healthcheck /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
# Inside a container the service must listen on every interface.
ENV EMPLOYEE_DIRECTORY_ADDR=0.0.0.0:9091
EXPOSE 9091
ENTRYPOINT ["/usr/local/bin/employee-directory"]
