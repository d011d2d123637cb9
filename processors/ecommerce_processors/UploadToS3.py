from nifiapi.flowfiletransform import FlowFileTransform, FlowFileTransformResult
from nifiapi.properties import ExpressionLanguageScope, PropertyDescriptor, StandardValidators

from ecommerce_pipeline.object_store import StorageError, put_object, s3_client
from ecommerce_processors.py4j_content import decode_content_in_one_call

decode_content_in_one_call()


class UploadToS3(FlowFileTransform):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileTransform"]

    class ProcessorDetails:
        version = "0.2.0"
        description = """Stores the FlowFile content as one object in an S3-compatible store such as MinIO
            (path-style addressing), under a key built with Expression Language from the FlowFile's attributes.
            The value of the Reason Attribute, when the FlowFile has it, becomes the object's user metadata
            `reason` (one line of ASCII, escaped). On success the s3.bucket, s3.key and s3.etag attributes are set.
            A store that is down or refuses the request routes the FlowFile to failure with a one-line s3.error
            (no credentials); the client gives up after a few quick retries, so loop failure back to this
            processor with a retry policy and back-off: nothing is dropped."""
        tags = ["s3", "minio", "upload", "put", "object storage", "boto3"]
        dependencies = ["boto3==1.44.5"]

    ENDPOINT_URL = PropertyDescriptor(
        name="Endpoint URL",
        description="The store's S3 endpoint, e.g. http://127.0.0.1:9000.",
        required=True,
        validators=[StandardValidators.URL_VALIDATOR],
    )
    BUCKET = PropertyDescriptor(
        name="Bucket",
        description="The bucket the object is stored in.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    OBJECT_KEY = PropertyDescriptor(
        name="Object Key",
        description="The object's key, e.g. "
        "order_info/ingest_date=${ingest.date}/${filename:substringBeforeLast('.')}-${chunk.id}.parquet.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
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
    REGION = PropertyDescriptor(
        name="Region",
        description="The region the client signs requests for; MinIO accepts us-east-1 unless configured otherwise.",
        required=True,
        default_value="us-east-1",
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    REASON_ATTRIBUTE = PropertyDescriptor(
        name="Reason Attribute",
        description="The name of an attribute (e.g. quarantine.reason) whose value, when present, is stored as "
        "the object's user metadata `reason`.",
        required=False,
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    properties = [ENDPOINT_URL, BUCKET, OBJECT_KEY, ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION, REASON_ATTRIBUTE]

    def __init__(self, **kwargs):
        super().__init__()
        self.client = None
        self.reason_attribute = None

    def getPropertyDescriptors(self):
        return self.properties

    def onScheduled(self, context):
        # Short timeouts and few retries: a down store fails the FlowFile fast and NiFi's back-off retries it.
        self.client = s3_client(
            context.getProperty(self.ENDPOINT_URL).getValue(),
            context.getProperty(self.ACCESS_KEY_ID).getValue(),
            context.getProperty(self.SECRET_ACCESS_KEY).getValue(),
            context.getProperty(self.REGION).getValue(),
            connect_timeout=5,
            read_timeout=30,
            max_attempts=2,
            retry_mode="standard",
        )
        self.reason_attribute = context.getProperty(self.REASON_ATTRIBUTE).getValue()

    def onStopped(self, context):
        if self.client is not None:
            self.client.close()
            self.client = None

    def transform(self, context, flowfile):
        bucket = context.getProperty(self.BUCKET).evaluateAttributeExpressions(flowfile).getValue()
        key = context.getProperty(self.OBJECT_KEY).evaluateAttributeExpressions(flowfile).getValue()
        reason = flowfile.getAttribute(self.reason_attribute) if self.reason_attribute else None
        try:
            etag = put_object(self.client, bucket, key, flowfile.getContentsAsBytes(), reason=reason)
        except (StorageError, FileNotFoundError) as error:
            self.logger.warn(f"{flowfile.getAttribute('filename')}: {error}")
            return FlowFileTransformResult(relationship="failure", attributes={"s3.error": str(error)})
        return FlowFileTransformResult(
            relationship="success", attributes={"s3.bucket": bucket, "s3.key": key, "s3.etag": etag}
        )
