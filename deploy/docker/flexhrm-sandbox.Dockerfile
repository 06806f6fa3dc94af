# syntax=docker/dockerfile:1
# flexhrm-sandbox: a stand-in Flex HRM API with seeded employees (HTTP :8091), for running the
# stack without vendor accounts (compose profile "sandbox"). Never deploy it to production.
# Build from the repository root; the Go workspace (go.work) spans several modules:
#   docker build -f deploy/docker/flexhrm-sandbox.Dockerfile -t flexflow/flexhrm-sandbox .

FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS
ARG TARGETARCH
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/ \
      ./libs/flexhrm/cmd/flexhrm-sandbox \
      ./deploy/docker/healthcheck

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/flexhrm-sandbox /out/healthcheck /usr/local/bin/
USER 65532:65532
WORKDIR /home/nonroot
EXPOSE 8091
ENTRYPOINT ["/usr/local/bin/flexhrm-sandbox"]
# The listen address is a flag; inside a container, every interface.
CMD ["-listen", "0.0.0.0:8091"]
