from nifiapi.flowfiletransform import FlowFileTransform, FlowFileTransformResult

from ecommerce_pipeline.cleaning import InvalidCsv, clean_chunk
from ecommerce_pipeline.object_keys import fragment_chunk_id
from ecommerce_processors.py4j_content import decode_content_in_one_call
from ecommerce_processors.py4j_sockets import send_without_delay

decode_content_in_one_call()
send_without_delay()


class CleanEcommerceCsv(FlowFileTransform):
    class Java:
        implements = ["org.apache.nifi.python.processor.FlowFileTransform"]

    class ProcessorDetails:
        version = "0.3.0"
        description = """Cleans a chunk of an e-commerce CSV export (the 17-column shop export): drops the duplicate
            address columns, renames columns to snake_case, standardises phone numbers, parses day-first dates and
            amounts, normalises statuses. Rows that cannot be cleaned are kept, as they came in, with a reason in
            the quarantine_reason column (empty for clean rows), so a QueryRecord can route both; their count and
            reasons are in the quarantine.row.count and quarantine.reasons attributes. Content that is not a
            readable export (empty, header only, wrong header, not UTF-8, binary, malformed CSV) goes to failure
            with the reason in the clean.error attribute. Either way chunk.id identifies the chunk by its
            fragment.index and content, so a replayed chunk is stored under the object keys it had."""
        tags = ["csv", "cleaning", "e-commerce", "pandas", "quarantine"]
        dependencies = ["pandas==3.1.1", "pyarrow==26.0.1"]

    def __init__(self, **kwargs):
        super().__init__()

    def transform(self, context, flowfile):
        content = flowfile.getContentsAsBytes()
        chunk = {"chunk.id": fragment_chunk_id(flowfile.getAttribute("fragment.index"), content)}
        try:
            cleaned = clean_chunk(content)
        except InvalidCsv as error:
            self.logger.warn(f"{flowfile.getAttribute('filename')}: {error}")
            return FlowFileTransformResult(relationship="failure", attributes={"clean.error": str(error), **chunk})
        return FlowFileTransformResult(
            relationship="success", attributes={**cleaned.attributes(), **chunk}, contents=cleaned.content
        )
