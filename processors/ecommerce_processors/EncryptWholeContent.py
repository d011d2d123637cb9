from nifiapi.flowfiletransform import FlowFileTransform, FlowFileTransformResult
from nifiapi.properties import ExpressionLanguageScope, PropertyDescriptor

from ecommerce_pipeline.content_encryption import encrypt_whole_content, quarantine_reason
from ecommerce_pipeline.object_keys import fragment_chunk_id
from ecommerce_processors import fernet_properties
from ecommerce_processors.py4j_content import decode_content_in_one_call
from ecommerce_processors.py4j_sockets import send_without_delay

decode_content_in_one_call()
send_without_delay()


class EncryptWholeContent(FlowFileTransform):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileTransform"]

    class ProcessorDetails:
        version = "0.3.0"
        description = """Encrypts the whole content of a FlowFile as one Fernet token, for content that could not
            be read as records (a file SplitRecord cannot parse, a chunk CleanEcommerceCsv rejects whole, records
            whose encryption failed): quarantine stores it encrypted like everything else. The token is a standard
            Fernet token under the first of the comma-separated keys, so cryptography's Fernet decrypts it with
            that key. The Reason is kept in the quarantine.reason attribute (it is meant to be stored in clear as
            object metadata, so it must name a cause, never quote content); chunk.id is set from fragment.index
            and the plaintext when the FlowFile has none yet."""
        tags = ["encryption", "fernet", "quarantine", "pii"]
        dependencies = ["pandas==3.1.1", "pyarrow==26.0.1"]

    FERNET_KEYS = fernet_properties.FERNET_KEYS
    REASON = PropertyDescriptor(
        name="Reason",
        description="Why the content is quarantined, from the attributes the failing step set (for example "
        "${clean.error:replaceEmpty(${encryption.error})}). It is stored in clear: reference only attributes "
        "that never quote the content. Empty means 'unreadable content'.",
        required=False,
        default_value="${clean.error}",
        expression_language_scope=ExpressionLanguageScope.FLOWFILE_ATTRIBUTES,
    )
    properties = [FERNET_KEYS, REASON]

    def __init__(self, **kwargs):
        super().__init__()
        self.keys = None

    def getPropertyDescriptors(self):
        return self.properties

    def customValidate(self, context):
        return fernet_properties.key_validation(context)

    def onScheduled(self, context):
        self.keys = fernet_properties.keyring(context)

    def transform(self, context, flowfile):
        content = flowfile.getContentsAsBytes()
        reason = quarantine_reason(context.getProperty(self.REASON).evaluateAttributeExpressions(flowfile).getValue())
        attributes = {"quarantine.reason": reason, "mime.type": "application/octet-stream"}
        if not flowfile.getAttribute("chunk.id"):
            attributes["chunk.id"] = fragment_chunk_id(flowfile.getAttribute("fragment.index"), content)
        return FlowFileTransformResult(
            relationship="success", attributes=attributes, contents=encrypt_whole_content(content, self.keys)
        )
