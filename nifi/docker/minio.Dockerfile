# MinIO's community edition publishes no image for its last versions: this packages the binary that
# nifi/stack builds with `go install` from the Go module (the same MINIO_VERSION), staged in
# .stack/docker/build/ by `nifi/stack images`; curl serves the healthcheck.
FROM debian:trixie-slim
RUN apt-get update && apt-get install -y --no-install-recommends curl \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1000 --user-group --no-create-home minio \
    && install -d -o 1000 -g 1000 /data
COPY .stack/docker/build/minio /usr/local/bin/minio
USER 1000
VOLUME /data
EXPOSE 9000 9001
ENTRYPOINT ["minio"]
