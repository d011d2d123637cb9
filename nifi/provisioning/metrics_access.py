"""A way in for a metrics scraper that does not expire as login tokens do: a client certificate for a read-only identity.

NiFi answers `GET /nifi-api/flow/metrics/prometheus` to any identity with READ on `/flow`
(FlowResource.getFlowMetrics calls authorizeFlow() and nothing else, rel/nifi-2.3.0), and its
HTTPS connector *wants* a client certificate (FrameworkServerConnectorFactory: want, not
need, unless the REST API requires one), so a certificate from the stack's CA, which every
node trusts, logs a client in as the certificate's DN.

What the labels say depends on the scraper's rights: the status behind the metrics names a
component only for a user who may READ it (StandardEventAccess.getGroupStatus), and gives
anyone else its id. So the identity gets READ on `/flow` and READ on the root process group
("view the component", inherited by the flow's group): component names and configuration
(non-sensitive property values, no parameter values), nothing more. It cannot read FlowFile
data, content, provenance, parameter contexts (the keys and credentials), the controller,
users or policies, and cannot change anything.

The stack issues the certificate for METRICS_IDENTITY (PEM: the certificate beside its 0600
key, in NiFi's TLS directory), adds that DN as a NiFi user and grants it those two policies.
"""

from .nifi_api import NiFiApi, ensure_user, grant
from .paths import METRICS_CLIENT_CERT, METRICS_CLIENT_KEY, NIFI_CA_CERT
from .processes import say
from .tls import ensure_client_certificate, node_identity

METRICS_SUBJECT = "metrics"
METRICS_IDENTITY = node_identity(METRICS_SUBJECT)  # the DN NiFi sees: CN=metrics
METRICS_POLICIES = (("read", "/flow"), ("read", "/process-groups/{root}"))


def ensure_metrics_reader(api: NiFiApi) -> None:
    """The metrics certificate (made once, renewed near its expiry) and its NiFi user with METRICS_POLICIES only."""
    ensure_client_certificate(METRICS_CLIENT_CERT, METRICS_CLIENT_KEY, NIFI_CA_CERT, METRICS_SUBJECT)
    user_id = ensure_user(api, METRICS_IDENTITY)
    root = api.get("/flow/process-groups/root")["processGroupFlow"]["id"]
    for action, resource in METRICS_POLICIES:
        grant(api, action, resource.format(root=root), user_id)
    say(f"nifi: metrics scrapers log in with {METRICS_CLIENT_CERT} and its key ({METRICS_IDENTITY}, "
        "read-only: GET /nifi-api/flow/metrics/prometheus)")
