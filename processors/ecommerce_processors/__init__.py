"""NiFi 2 Python processors of the e-commerce ingestion flow.

NiFi loads each module here by its file path; the processors are thin adapters over the
shared core in the sibling package `ecommerce_pipeline`.
"""
