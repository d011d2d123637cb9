from nifiapi.componentstate import Scope
from nifiapi.flowfilesource import FlowFileSource, FlowFileSourceResult
from nifiapi.properties import PropertyDescriptor, StandardValidators

from ecommerce_pipeline.landing import landing_objects, next_to_take
from ecommerce_pipeline.object_store import s3_client


class FetchFromLandingBucket(FlowFileSource):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileSource"]

    class ProcessorDetails:
        version = "0.2.0"
        description = """Takes CSV exports uploaded under a prefix of an S3-compatible bucket (MinIO), one object per
            run, oldest first, and hands each on as a FlowFile named after the object (filename, landing.key,
            landing.etag attributes). The objects stay where they are; what was taken is kept in the processor's
            state as key and ETag, so each upload is taken once and an object uploaded again with new content
            is taken again. An object over 512 MB is left in place with a warning: split it before uploading."""
        tags = ["s3", "minio", "fetch", "list", "landing", "boto3"]
        dependencies = ["boto3==1.44.5"]

    ENDPOINT_URL = PropertyDescriptor(
        name="Endpoint URL",
        description="The store's S3 endpoint, e.g. http://127.0.0.1:9000.",
        required=True,
        validators=[StandardValidators.URL_VALIDATOR],
    )
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
    ACCESS_KEY_ID = PropertyDescriptor(
        name="Access Key ID",
        description="The store's access key; fill it from a sensitive parameter.",
        required=True,
        sensitive=True,
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    SECRET_ACCESS_KEY = PropertyDescriptor(
        name="Secret Access Key",
        description="The store's secret key; fill it from a sensitive parameter.",
        required=True,
        sensitive=True,
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    properties = [ENDPOINT_URL, BUCKET, PREFIX, ACCESS_KEY_ID, SECRET_ACCESS_KEY]

    def __init__(self, **kwargs):
        super().__init__()
        self.client = None
        self.handed_on = None

    def getPropertyDescriptors(self):
        return self.properties

    def onScheduled(self, context):
        self.client = s3_client(
            context.getProperty(self.ENDPOINT_URL).getValue(),
            context.getProperty(self.ACCESS_KEY_ID).getValue(),
            context.getProperty(self.SECRET_ACCESS_KEY).getValue(),
            connect_timeout=5, read_timeout=60,
        )
        self.handed_on = None

    def create(self, context):
        bucket = context.getProperty(self.BUCKET).getValue()
        state = context.getStateManager()
        taken = state.getState(Scope.LOCAL).toMap()
        if self.handed_on is not None:  # the previous FlowFile was committed before this run began
            taken[self.handed_on.key] = self.handed_on.etag
            state.setState(taken, Scope.LOCAL)
            self.handed_on = None
        found, too_large = next_to_take(
            landing_objects(self.client, bucket, context.getProperty(self.PREFIX).getValue()), taken)
        for skipped in too_large:
            self.logger.warn(f"s3://{bucket}/{skipped.key} is {skipped.size} bytes: left in place, split it first")
        if found is None:
            return None
        content = self.client.get_object(Bucket=bucket, Key=found.key, IfMatch=found.etag)["Body"].read()
        self.handed_on = found
        return FlowFileSourceResult(relationship="success", contents=content, attributes={
            "filename": found.filename, "landing.key": found.key, "landing.etag": found.etag})
