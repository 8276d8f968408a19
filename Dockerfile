# roomgate: a static binary on a distroless base, running as a non-root user.
#   docker build -t roomgate --build-arg VERSION=$(git describe --always) .
#   docker run -p 8080:8080 -v $PWD/config.yaml:/etc/roomgate/config.yaml:ro \
#     -e OIDC_CLIENT_SECRET -e SESSION_SECRET -e DS_DEVELOPER_KEY roomgate
# 1.26.10: the first 1.26 release with no standard-library vulnerability
# that govulncheck traces to roomgate (scripts/vulncheck.sh).
FROM golang:1.26.10-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath \
      -ldflags "-s -w -X github.com/roomgate/roomgate/internal/cli.Version=${VERSION}" \
      -o /out/roomgate .

# distroless/static: CA certificates and tzdata, no shell, no package manager.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/roomgate /usr/local/bin/roomgate
COPY config.example.yaml /etc/roomgate/config.yaml
# 65532 is distroless' "nonroot"; numeric so Kubernetes' runAsNonRoot can check it.
USER 65532:65532
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/roomgate"]
CMD ["serve", "-config", "/etc/roomgate/config.yaml"]
