from nifiapi.flowfiletransform import FlowFileTransform, FlowFileTransformResult
from nifiapi.properties import ExpressionLanguageScope, PropertyDescriptor, StandardValidators
from nifiapi.relationship import Relationship

from ecommerce_pipeline.landing import delete_landed
from ecommerce_pipeline.ledger import (
    Claim, IngestRecord, claim, duplicate_reason, now_iso, record_duplicate,
)
from ecommerce_processors import s3_properties
from ecommerce_processors.py4j_sockets import send_without_delay


send_without_delay()

class CheckIngestLedger(FlowFileTransform):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileTransform"]

    class ProcessorDetails:
        version = "0.3.0"
        description = """Claims a file's content in the ingest ledger that lives with the lake (_ingested/<SHA-256>,
            written with a conditional put) before anything of it is stored. New content goes to success; so
            does NiFi's replay of the FlowFile that claimed it (same Identity), with ingest.date set to the first
            ingest's date so the replay rewrites its own objects. Content another FlowFile ingested first goes
            to duplicate: nothing of it is stored, a warning names the first ingest and a JSON record beside
            quarantine (<stem>-<id>.duplicate.json) says when it was. A file taken from the landing bucket
            (landing.key) is deleted there once claimed: NiFi's repositories hold its content from then on.
            Reads attributes only; the content's digest comes from CryptographicHashContent."""
        tags = ["ledger", "deduplicate", "duplicate", "s3", "minio", "exactly-once", "boto3"]
        dependencies = ["boto3==1.44.5"]

    ENDPOINT_URL = s3_properties.ENDPOINT_URL
    BUCKET = PropertyDescriptor(
        name="Bucket",
        description="The lake's bucket: the ledger lives under _ingested/ in it.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    ACCESS_KEY_ID = s3_properties.ACCESS_KEY_ID
    SECRET_ACCESS_KEY = s3_properties.SECRET_ACCESS_KEY
    CONTENT_SHA256 = s3_properties.CONTENT_SHA256
    IDENTITY = PropertyDescriptor(
        name="Identity",
        description="What a replay of the same file has in common with its first run: the landing upload's take "
        "id, else the FlowFile's uuid (kept through NiFi's replays).",
        required=True,
        default_value="${landing.take:replaceEmpty(${uuid})}",
        validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    properties = [ENDPOINT_URL, BUCKET, ACCESS_KEY_ID, SECRET_ACCESS_KEY, CONTENT_SHA256, IDENTITY]

    DUPLICATE = Relationship(name="duplicate", description="Content another FlowFile ingested first: stored nowhere.")
    SUCCESS = Relationship(name="success", description="Content claimed now, or replayed by the FlowFile that claimed it.")

    def __init__(self, **kwargs):
        super().__init__()
        self.client = None

    def getPropertyDescriptors(self):
        return self.properties

    def getRelationships(self):
        return [self.SUCCESS, self.DUPLICATE]

    def onScheduled(self, context):
        self.client = s3_properties.store_client(context, connect_timeout=5, read_timeout=30, max_attempts=2,
                                                 retry_mode="standard")

    def onStopped(self, context):
        if self.client is not None:
            self.client.close()
            self.client = None

    def transform(self, context, flowfile):
        bucket = context.getProperty(self.BUCKET).getValue()
        filename = flowfile.getAttribute("filename")
        record = IngestRecord(
            sha256=context.getProperty(self.CONTENT_SHA256).evaluateAttributeExpressions(flowfile).getValue(),
            ingested_at=now_iso(),
            ingest_date=flowfile.getAttribute("ingest.date"),
            source=filename,
            identity=context.getProperty(self.IDENTITY).evaluateAttributeExpressions(flowfile).getValue(),
        )
        outcome, first = claim(self.client, bucket, record)
        attributes = {"ingest.sha256": record.sha256, "ingest.claim": outcome.value,
                      "ingest.first.at": first.ingested_at}
        if outcome is Claim.DUPLICATE:
            key = record_duplicate(self.client, bucket, record, first, flowfile.getAttribute("source.stem"))
            self.logger.warn(f"{filename}: {duplicate_reason(first)}; see s3://{bucket}/{key}")
        landing_key = flowfile.getAttribute("landing.key")
        if landing_key:
            delete_landed(self.client, bucket, landing_key, flowfile.getAttribute("landing.etag"))
        if outcome is Claim.DUPLICATE:
            return FlowFileTransformResult(relationship="duplicate", attributes=attributes)
        return FlowFileTransformResult(relationship="success", attributes={**attributes,
                                                                          "ingest.date": first.ingest_date})
