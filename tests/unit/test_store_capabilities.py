"""The capability probe's decisions on a store's answers (botocore's Stubber plays the store's replies)."""

import io

import pytest
from botocore.response import StreamingBody
from botocore.stub import ANY, Stubber

from ecommerce_pipeline.exit_codes import ConfigurationMissing
from ecommerce_pipeline.object_store import StorageError, s3_client
from ecommerce_pipeline.store_capabilities import PROBE_KEY, UntrustedStore, probe, require_trusted_store


def store():
    return s3_client("http://127.0.0.1:9000", "access-key-id", "secret-access-key")


def put(stub, error=None):
    params = {"Bucket": "lake", "Key": PROBE_KEY, "Body": ANY, "IfNoneMatch": "*", "ContentType": "application/json"}
    if error:
        status = {"PreconditionFailed": 412, "NotImplemented": 501}.get(error, 403)
        stub.add_client_error("put_object", error, error, status, expected_params=params)
    else:
        stub.add_response("put_object", {"ETag": '"e"'}, params)


def test_a_store_that_refuses_the_second_put_can_be_trusted():
    s3 = store()
    with Stubber(s3) as stub:
        put(stub)
        put(stub, "PreconditionFailed")
        stub.add_response("get_object", {"Body": _body(b'{"probe": "first"}')}, {"Bucket": "lake", "Key": PROBE_KEY})
        found = probe(s3, "lake")
    assert found.conditional_create and "refused a second PutObject" in found.behaviour


def test_a_store_that_accepts_the_second_put_is_refused_with_what_it_did():
    s3 = store()
    sent = []
    s3.meta.events.register("provide-client-params.s3.PutObject", lambda params, **_: sent.append(params["Body"]))
    with Stubber(s3) as stub:
        put(stub)
        put(stub)
        stub.add_response("get_object", {"Body": _LastSent(sent)}, {"Bucket": "lake", "Key": PROBE_KEY})
        with pytest.raises(UntrustedStore) as refused:
            require_trusted_store(s3, "lake", "http://store:9000")
    message = str(refused.value)
    assert "accepted a second PutObject with If-None-Match: *" in message and "overwrote the object" in message
    assert "http://store:9000" in message and "refused before anything was ingested" in message
    assert isinstance(refused.value, ConfigurationMissing)


def test_a_store_that_does_not_implement_conditional_puts_is_refused():
    s3 = store()
    with Stubber(s3) as stub:
        put(stub, "NotImplemented")
        with pytest.raises(UntrustedStore, match="not implemented"):
            probe(s3, "lake")


def test_a_refused_probe_is_a_storage_error_not_a_verdict():
    s3 = store()
    with Stubber(s3) as stub:
        put(stub, "AccessDenied")
        with pytest.raises(StorageError, match="AccessDenied"):
            probe(s3, "lake")


class _LastSent:
    """A response body that reads back the last body put (the second, on a store that overwrote)."""

    def __init__(self, sent):
        self.sent = sent

    def read(self):
        return self.sent[-1]


def _body(data):
    return StreamingBody(io.BytesIO(data), len(data))
