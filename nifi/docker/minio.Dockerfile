# MinIO's community edition publishes no image for its last versions: build the same
# module version the native stack builds (nifi/stack, MINIO_VERSION) with go install.
FROM golang:1.25-bookworm AS build
ARG MINIO_VERSION
RUN CGO_ENABLED=0 GOBIN=/out go install github.com/minio/minio@${MINIO_VERSION}

FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /out/minio /usr/local/bin/minio
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
