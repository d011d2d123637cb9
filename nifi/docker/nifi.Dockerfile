# The project's NiFi: the home nifi/assembly makes, the processors NAR (dependencies bundled: no pip at
# run time) and the stack's own start-up code, which renders conf and TLS when the container starts.
# `nifi/stack images` stages the binaries in .stack/docker/build/ and builds this with the repository
# as context; debian:trixie-slim is pulled or, with no registry, made locally by the same command.
FROM debian:trixie-slim

ENV LANG=C.UTF-8 \
    PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    JAVA_HOME=/usr/lib/jvm/java-21-openjdk-amd64 \
    NIFI_HOME=/opt/nifi \
    ECOMMERCE_PIPELINE_STATE=/var/lib/ecommerce-pipeline \
    PYTHONPATH=/opt/ecommerce-pipeline/nifi:/opt/ecommerce-pipeline/processors:/opt/ecommerce-pipeline/python-libs \
    PYTHONDONTWRITEBYTECODE=1

# Java 21 for NiFi; Python for its Python processors (no venv: the NAR bundles their dependencies),
# the start-up code (bcrypt, cryptography) and the bucket init job (boto3, dotenv).
RUN apt-get update \
    && apt-get install -y --no-install-recommends openjdk-21-jre-headless python3 \
        python3-bcrypt python3-cryptography python3-boto3 python3-dotenv \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --uid 1000 --user-group --no-create-home --home-dir /var/lib/ecommerce-pipeline nifi \
    && install -d -o 1000 -g 1000 -m 0700 /var/lib/ecommerce-pipeline /var/lib/ecommerce-pipeline/nifi \
    && install -d -o 1000 -g 1000 /data/inbox /export

COPY .stack/docker/build/nifi-home /opt/nifi
COPY .stack/docker/build/extensions /opt/ecommerce-pipeline/extensions
RUN python="$(python3 -c 'import sys; print("%d.%d" % sys.version_info[:2])')" \
    && ls /opt/ecommerce-pipeline/extensions/*-py"$python"-*.nar \
    || { echo "the staged processors NAR is not built for this image's Python $python" >&2; exit 1; }
COPY .stack/docker/build/python-libs /opt/ecommerce-pipeline/python-libs
COPY pyproject.toml /opt/ecommerce-pipeline/
COPY nifi/conf /opt/ecommerce-pipeline/nifi/conf
COPY nifi/provisioning /opt/ecommerce-pipeline/nifi/provisioning
COPY processors/ecommerce_pipeline /opt/ecommerce-pipeline/processors/ecommerce_pipeline

VOLUME /var/lib/ecommerce-pipeline/nifi
EXPOSE 8443
ENTRYPOINT ["python3", "-m", "provisioning.container"]
CMD ["nifi"]
