"""Where the stack keeps things: binaries in a cache outside the repository, state in .stack/."""

import os
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATE = Path(os.environ.get("ECOMMERCE_PIPELINE_STATE", REPO / ".stack"))
CACHE = Path(os.environ.get("ECOMMERCE_PIPELINE_CACHE", Path.home() / ".cache" / "ecommerce-pipeline"))
ENV_FILE = Path(os.environ.get("ECOMMERCE_PIPELINE_ENV_FILE", REPO / ".env"))

NIFI_STATE = STATE / "nifi"
NIFI_CA_CERT = NIFI_STATE / "tls" / "ca.pem"  # the one CA: it signs every node's certificate
