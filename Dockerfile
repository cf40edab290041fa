# syntax=docker/dockerfile:1
#
# hooklab's container image: one static binary on distroless.
#
#   docker build -t REGISTRY/hooklab:TAG .                   # hooklab alone (no shell)
#   docker build --target job -t REGISTRY/hooklab:TAG-job .  # + busybox sh, for deploy/kubernetes
#
# The default (last) stage is gcr.io/distroless/static-debian12:nonroot:
# the binary, CA certificates, tzdata and /etc/passwd, run as uid 65532,
# nothing else; the entrypoint is hooklab (docker run IMAGE load …). The
# "job" stage adds distroless's busybox (/busybox/sh): the Kubernetes Jobs
# in deploy/kubernetes need a shell for one thing, sending hooklab's JSON
# report from stdout to a file on the shared volume.
#
# The binary is built with CGO_ENABLED=0, so it links statically and runs
# on a base without libc; -trimpath drops the build machine's paths and
# -s -w the symbol and DWARF tables (about a third of the size).

ARG GO_VERSION=1.26

FROM --platform=$BUILDPLATFORM golang:${GO_VERSION}-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN --mount=type=cache,target=/go/pkg/mod go mod download
COPY . .
ARG TARGETOS=linux
ARG TARGETARCH=amd64
RUN --mount=type=cache,target=/go/pkg/mod --mount=type=cache,target=/root/.cache/go-build \
    CGO_ENABLED=0 GOOS=$TARGETOS GOARCH=$TARGETARCH \
    go build -trimpath -ldflags='-s -w' -o /out/hooklab ./cmd/hooklab

FROM gcr.io/distroless/static-debian12:debug-nonroot AS job
COPY --from=build /out/hooklab /usr/local/bin/hooklab
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/hooklab"]

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/hooklab /usr/local/bin/hooklab
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/hooklab"]
