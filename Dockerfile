# syntax=docker/dockerfile:1
#
# The Inlay server image: a static binary on distroless, run as non-root.
#   docker build -t ghcr.io/inlayhq/inlay:dev .
#   docker buildx build --platform linux/amd64,linux/arm64 -t ghcr.io/inlayhq/inlay:dev .
# The config and layouts come from /etc/inlay (a ConfigMap in Kubernetes,
# see deploy/README.md).

# The build stage runs on the builder's platform and cross-compiles, so a
# multi-platform build needs no emulation.
FROM --platform=$BUILDPLATFORM golang:1.26 AS build
ARG TARGETOS TARGETARCH
WORKDIR /src
# Dependencies first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags "-s -w" -o /out/inlay ./cmd/inlay

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/inlay /inlay
USER nonroot
# The Makefile's INLAY_GODEBUG: new goroutines start with 2 KiB stacks.
# A GODEBUG set when the container runs replaces this one: keep
# adaptivestackstart=0 in it.
ENV GODEBUG=adaptivestackstart=0
# 8080: shoppers and the /-/ready, /-/health probes; 9090: the admin listener.
EXPOSE 8080 9090
ENTRYPOINT ["/inlay","serve","--config","/etc/inlay/inlay.yaml"]
