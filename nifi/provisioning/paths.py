"""Where the stack keeps things: binaries in a cache outside the repository, state in .stack/, settings in .env."""

import os
from pathlib import Path

from ecommerce_pipeline.settings import env_file

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("ECOMMERCE_PIPELINE_STATE", REPO / ".stack"))
CACHE = Path(os.environ.get("ECOMMERCE_PIPELINE_CACHE", Path.home() / ".cache" / "ecommerce-pipeline"))
ENV_FILE = env_file(REPO)

NIFI_STATE = STATE / "nifi"
NIFI_CA_CERT = NIFI_STATE / "tls" / "ca.pem"  # the one CA: it signs every node's certificate
# The metrics scraper's client certificate and key (metrics_access.py), beside the CA that signed them.
METRICS_CLIENT_CERT = NIFI_CA_CERT.with_name("metrics-client.pem")
METRICS_CLIENT_KEY = NIFI_CA_CERT.with_name("metrics-client-key.pem")

# docker-compose.yml's side of the checkout (fixed paths: compose reads them relative to the repository).
DOCKER_STATE = REPO / ".stack" / "docker"
DOCKER_BUILD = DOCKER_STATE / "build"  # the pieces the images copy: NiFi home, processors NAR, MinIO
DOCKER_CA_CERT = DOCKER_STATE / "ca" / "ca.pem"  # the compose NiFi's CA, exported through a bind mount
DOCKER_METRICS_CLIENT_CERT = DOCKER_CA_CERT.with_name(METRICS_CLIENT_CERT.name)  # and its metrics certificate
DOCKER_METRICS_CLIENT_KEY = DOCKER_CA_CERT.with_name(METRICS_CLIENT_KEY.name)
