"""E-commerce ingestion: the core the NiFi Python processors share with the command-line tools.

The processors NAR carries this package beside `ecommerce_processors` (and their locked
dependencies); the command-line tools and the tests import the same modules as ``ecommerce_pipeline``.
"""
