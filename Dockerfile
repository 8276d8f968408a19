# roomgate: a static binary on a distroless base, running as a non-root user.
#   docker build -t roomgate --build-arg VERSION=$(git describe --always) .
#   docker run -p 8080:8080 -v $PWD/config:/etc/roomgate:ro \
#     -e OIDC_CLIENT_SECRET -e SESSION_SECRET -e DS_DEVELOPER_KEY roomgate
# Mount the directory that holds config.yaml, not the file: an editor or a
# deploy replaces the file (a new inode), and a single-file bind mount
# keeps showing the old one, so the reload never sees the change.
# With the SQLite store (store.sqlite.path: /var/lib/roomgate/roomgate.db),
# keep the file on a volume: -v roomgate-data:/var/lib/roomgate; a named
# volume starts owned by the image's user.
# 1.26.10: the first 1.26 release with no standard-library vulnerability
# that govulncheck traces to roomgate (scripts/vulncheck.sh).
FROM golang:1.26.10-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/roomgate/roomgate/cmd.Version=${VERSION}" \
      -o /out/roomgate . && \
    mkdir -m 0700 /out/data

# distroless/static: CA certificates, no shell, no package manager; roomgate
# carries its own time zone database (time/tzdata).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roomgate /usr/local/bin/roomgate
COPY config.example.yaml /etc/roomgate/config.yaml
# Where the SQLite store's file lives, writable by roomgate alone.
COPY --from=build --chown=65532:65532 /out/data /var/lib/roomgate
# 65532 is distroless' "nonroot"; numeric so Kubernetes' runAsNonRoot can check it.
USER 65532:65532
EXPOSE 8080
# No shell or curl in the image: roomgate asks itself.
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s CMD ["/usr/local/bin/roomgate", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/roomgate"]
CMD ["serve", "-config", "/etc/roomgate/config.yaml"]
