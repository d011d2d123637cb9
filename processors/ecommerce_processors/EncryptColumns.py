from nifiapi.flowfiletransform import FlowFileTransform, FlowFileTransformResult
from nifiapi.properties import (
    ExpressionLanguageScope, PropertyDescriptor, ResourceDefinition, StandardValidators, ValidationResult,
)

from ecommerce_pipeline.content_encryption import OUTPUT_MIME_TYPES, encrypt_content
from ecommerce_pipeline.policy import PolicyError, load_policy
from ecommerce_pipeline.table_encryption import MissingPolicyColumns
from ecommerce_processors import fernet_properties
from ecommerce_processors.py4j_content import decode_content_in_one_call
from ecommerce_processors.py4j_sockets import send_without_delay

decode_content_in_one_call()
send_without_delay()


class EncryptColumns(FlowFileTransform):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileTransform"]

    class ProcessorDetails:
        version = "0.3.0"
        description = """Encrypts the columns that the encryption policy names for a segment with Fernet, a whole
            column at a time. Records may be CSV (every value read as text) or Parquet. With Output Format Parquet
            they leave as one snappy Parquet file with the segment's column types (order_date a date,
            total_purchase_value a double, from the text QueryRecord hands on; quarantine rows stay text); with
            CSV, as CSV with every other column untouched. Nulls stay null. Tokens are standard Fernet tokens that
            cryptography's Fernet decrypts with the key. Keys are a comma-separated list, newest first: the first
            encrypts, so keys can be rotated while older data still decrypts."""
        tags = ["encryption", "fernet", "pii", "columns", "csv", "parquet"]
        dependencies = ["pandas==3.1.1", "pyarrow==26.0.1"]

    FERNET_KEYS = fernet_properties.FERNET_KEYS
    SEGMENT = PropertyDescriptor(
        name="Segment",
        description="The policy segment whose columns are encrypted (customer_info, order_info, "
        "payment_and_delivery_info or quarantine). A value without Expression Language must name a segment "
        "of the policy.",
        required=True,
        validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    POLICY_FILE = PropertyDescriptor(
        name="Encryption Policy File",
        description="A policy TOML to use instead of the packaged encryption_policy.toml.",
        required=False,
        resource_definition=ResourceDefinition(allow_file=True),
    )
    OUTPUT_FORMAT = PropertyDescriptor(
        name="Output Format",
        description="Parquet: one snappy Parquet file with the segment's column types, as the lake stores it. "
        "CSV: CSV with only the policy's columns changed.",
        required=True,
        allowable_values=["Parquet", "CSV"],
        default_value="Parquet",
    )
    properties = [FERNET_KEYS, SEGMENT, OUTPUT_FORMAT, POLICY_FILE]

    def __init__(self, **kwargs):
        super().__init__()
        self.keys = None
        self.policy = None
        self.output_format = None

    def getPropertyDescriptors(self):
        return self.properties

    def customValidate(self, context):
        results = fernet_properties.key_validation(context)
        try:
            policy = load_policy(context.getProperty(self.POLICY_FILE).getValue())
        except PolicyError as error:
            return results + [ValidationResult(subject=self.POLICY_FILE.name, explanation=str(error), valid=False)]
        segment = context.getProperty(self.SEGMENT)
        if segment.getValue() and not segment.isExpressionLanguagePresent():
            try:
                policy.segment(segment.getValue())
            except PolicyError as error:
                results.append(ValidationResult(subject=self.SEGMENT.name, explanation=str(error), valid=False))
        return results

    def onScheduled(self, context):
        self.keys = fernet_properties.keyring(context)
        self.policy = load_policy(context.getProperty(self.POLICY_FILE).getValue())
        self.output_format = context.getProperty(self.OUTPUT_FORMAT).getValue().lower()

    def transform(self, context, flowfile):
        segment = context.getProperty(self.SEGMENT).evaluateAttributeExpressions(flowfile).getValue()
        try:
            content = encrypt_content(flowfile.getContentsAsBytes(), segment, self.keys, self.policy, self.output_format)
        except (PolicyError, MissingPolicyColumns, ValueError) as error:
            self.logger.warn(f"{flowfile.getAttribute('filename')}: {error}")
            return FlowFileTransformResult(relationship="failure", attributes={"encryption.error": str(error)})
        return FlowFileTransformResult(
            relationship="success",
            attributes={
                "encrypted.columns": ",".join(self.policy.encrypted_columns(segment)),
                "encryption.segment": segment,
                "mime.type": OUTPUT_MIME_TYPES[self.output_format],
            },
            contents=content,
        )
