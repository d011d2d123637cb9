import uuid

from nifiapi.componentstate import Scope
from nifiapi.flowfilesource import FlowFileSource, FlowFileSourceResult
from nifiapi.properties import PropertyDescriptor, StandardValidators

from ecommerce_pipeline.landing import (
    committed, landing_objects, next_to_take, still_listed, take_record,
)
from ecommerce_processors import s3_properties


class GetLandingBucketObject(FlowFileSource):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileSource"]

    class ProcessorDetails:
        version = "0.3.0"
        description = """Gets CSV exports uploaded under a prefix of an S3-compatible bucket (MinIO), one object per
            run, oldest first, and hands each on as a FlowFile named after the object (filename, landing.key,
            landing.etag and landing.take attributes; landing.take names this upload of the key). Each upload is
            taken once, across stops and restarts: the take is kept in cluster state, pending until NiFi stops
            the processor (every commit done), and a pending take of a run that never stopped (a crash) is
            taken again under the same landing.take, which the ingest ledger treats as a replay. The flow
            deletes the object once its content is held and claimed; state keeps only keys still listed. An
            object over 512 MB is left in place with a warning: split it before uploading."""
        tags = ["s3", "minio", "get", "list", "landing", "boto3"]
        dependencies = ["boto3==1.44.5"]

    ENDPOINT_URL = s3_properties.ENDPOINT_URL
    BUCKET = PropertyDescriptor(
        name="Bucket",
        description="The bucket users upload exports to.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    PREFIX = PropertyDescriptor(
        name="Landing Prefix",
        description="The key prefix uploads land under, e.g. landing/.",
        required=True,
        default_value="landing/",
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    ACCESS_KEY_ID = s3_properties.ACCESS_KEY_ID
    SECRET_ACCESS_KEY = s3_properties.SECRET_ACCESS_KEY
    properties = [ENDPOINT_URL, BUCKET, PREFIX, ACCESS_KEY_ID, SECRET_ACCESS_KEY]

    def __init__(self, **kwargs):
        super().__init__()
        self.client = None
        self.scheduling = None

    def getPropertyDescriptors(self):
        return self.properties

    def onScheduled(self, context):
        self.client = s3_properties.store_client(context, connect_timeout=5, read_timeout=60)
        self.scheduling = uuid.uuid4().hex

    def onStopped(self, context):
        state = context.getStateManager()
        takes = state.getState(Scope.CLUSTER).toMap()
        if takes:
            state.setState(committed(takes), Scope.CLUSTER)

    def create(self, context):
        bucket = context.getProperty(self.BUCKET).getValue()
        state = context.getStateManager()
        recorded = dict(state.getState(Scope.CLUSTER).toMap())
        listing = landing_objects(self.client, bucket, context.getProperty(self.PREFIX).getValue())
        takes = still_listed(recorded, listing)
        found, too_large = next_to_take(listing, takes, self.scheduling)
        for skipped in too_large:
            self.logger.warn(f"s3://{bucket}/{skipped.key} is {skipped.size} bytes: left in place, split it first")
        if found is None:
            if takes != recorded:
                state.setState(takes, Scope.CLUSTER)
            return None
        content = self.client.get_object(Bucket=bucket, Key=found.key, IfMatch=found.etag)["Body"].read()
        takes[found.key] = take_record(found, self.scheduling)
        state.setState(takes, Scope.CLUSTER)  # before NiFi commits the FlowFile: pending until onStopped
        return FlowFileSourceResult(relationship="success", contents=content, attributes={
            "filename": found.filename, "landing.key": found.key, "landing.etag": found.etag,
            "landing.take": found.take_id(bucket)})
