"""The store's endpoint and credentials, and the content hash a request carries: one definition for every
processor that talks to S3.

The flow refers to these properties by name, so each processor lists them under the same names.
"""

from nifiapi.properties import ExpressionLanguageScope, PropertyDescriptor, StandardValidators

from ecommerce_pipeline.object_store import s3_client

ENDPOINT_URL = PropertyDescriptor(
    name="Endpoint URL",
    description="The store's S3 endpoint, e.g. http://127.0.0.1:9000.",
    required=True,
    validators=[StandardValidators.URL_VALIDATOR],
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
CONTENT_SHA256 = PropertyDescriptor(
    name="Content SHA-256",
    description="The SHA-256 of the FlowFile's content, in lower-case hex, as CryptographicHashContent writes it.",
    required=True,
    default_value="${content_SHA-256}",
    validators=[StandardValidators.NON_EMPTY_EL_VALIDATOR],
    expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
)


def store_client(context, region: str = "us-east-1", **options):
    """A boto3 client for the store the processor's properties name (options: object_store.s3_client's)."""
    return s3_client(
        context.getProperty(ENDPOINT_URL).getValue(),
        context.getProperty(ACCESS_KEY_ID).getValue(),
        context.getProperty(SECRET_ACCESS_KEY).getValue(),
        region,
        **options,
    )
