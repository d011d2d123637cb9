"""E-commerce ingestion: the NiFi Python processors and the core they share.

NiFi loads this folder as one extension package (its modules import each other and
``requirements.txt`` is installed into the processors' environment); the command-line
tools and the tests import the same modules as ``ecommerce_pipeline``.
"""
