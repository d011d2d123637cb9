from nifiapi.flowfiletransform import FlowFileTransform, FlowFileTransformResult
from nifiapi.properties import ExpressionLanguageScope, PropertyDescriptor, StandardValidators

from ecommerce_pipeline.s3_signing import SigningError, sign_put
from ecommerce_processors import s3_properties
from ecommerce_processors.py4j_sockets import send_without_delay


send_without_delay()

class SignS3Upload(FlowFileTransform):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileTransform"]

    class ProcessorDetails:
        version = "0.3.0"
        description = """Signs an S3 PUT of the FlowFile's content (AWS Signature Version 4, path-style, as MinIO
            expects) without reading the content: it signs the SHA-256 that CryptographicHashContent put in an
            attribute, so the bytes stay in NiFi and InvokeHTTP sends them. Sets s3.url (the object's URL) and, as
            attributes named as the headers, Authorization, X-Amz-Date, X-Amz-Content-SHA256 and, when the Reason
            Attribute is present, x-amz-meta-reason (one line of ASCII): give InvokeHTTP the method PUT, the URL
            ${s3.url} and the Request Header Attributes Pattern of those names. The store accepts the request only
            with that exact body, key and method, and for 15 minutes: route InvokeHTTP's failures back here to be
            signed again. A FlowFile without a well-formed hash, bucket or key goes to failure with s3.error."""
        tags = ["s3", "minio", "upload", "put", "signature", "sigv4", "invokehttp"]
        dependencies = ["boto3==1.44.5"]

    ENDPOINT_URL = s3_properties.ENDPOINT_URL
    BUCKET = PropertyDescriptor(
        name="Bucket",
        description="The bucket the object is stored in.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    OBJECT_KEY = PropertyDescriptor(
        name="Object Key",
        description="The object's key, e.g. order_info/ingest_date=${ingest.date}/${source.stem}-${chunk.id}.parquet.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    ACCESS_KEY_ID = s3_properties.ACCESS_KEY_ID
    SECRET_ACCESS_KEY = s3_properties.SECRET_ACCESS_KEY
    REGION = PropertyDescriptor(
        name="Region",
        description="The region the request is signed for; MinIO accepts us-east-1 unless configured otherwise.",
        required=True,
        default_value="us-east-1",
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    PAYLOAD_SHA256 = s3_properties.CONTENT_SHA256
    REASON_ATTRIBUTE = PropertyDescriptor(
        name="Reason Attribute",
        description="The name of an attribute (e.g. quarantine.reason) whose value, when present, is stored as "
        "the object's user metadata `reason`.",
        required=False,
        validators=[StandardValidators.NON_EMPTY_VALIDATOR],
    )
    properties = [ENDPOINT_URL, BUCKET, OBJECT_KEY, ACCESS_KEY_ID, SECRET_ACCESS_KEY, REGION, PAYLOAD_SHA256,
                  REASON_ATTRIBUTE]

    def __init__(self, **kwargs):
        super().__init__()
        self.store = None

    def getPropertyDescriptors(self):
        return self.properties

    def onScheduled(self, context):
        self.store = {
            "endpoint_url": context.getProperty(self.ENDPOINT_URL).getValue(),
            "access_key_id": context.getProperty(self.ACCESS_KEY_ID).getValue(),
            "secret_access_key": context.getProperty(self.SECRET_ACCESS_KEY).getValue(),
            "region": context.getProperty(self.REGION).getValue(),
        }
        self.reason_attribute = context.getProperty(self.REASON_ATTRIBUTE).getValue()

    def transform(self, context, flowfile):
        bucket = context.getProperty(self.BUCKET).evaluateAttributeExpressions(flowfile).getValue()
        key = context.getProperty(self.OBJECT_KEY).evaluateAttributeExpressions(flowfile).getValue()
        payload = context.getProperty(self.PAYLOAD_SHA256).evaluateAttributeExpressions(flowfile).getValue()
        reason = flowfile.getAttribute(self.reason_attribute) if self.reason_attribute else None
        try:
            signed = sign_put(bucket=bucket, key=key, payload_sha256=payload, reason=reason, **self.store)
        except SigningError as error:
            self.logger.warn(f"{flowfile.getAttribute('filename')}: {error}")
            return FlowFileTransformResult(relationship="failure", attributes={"s3.error": str(error)})
        return FlowFileTransformResult(
            relationship="success", attributes={"s3.bucket": bucket, "s3.key": key, "s3.url": signed.url, **signed.headers}
        )
