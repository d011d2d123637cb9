"""Deploying the versioned flow (flows/ecommerce-ingest.json) into NiFi with nipyapi.

`deploy_flow.py` is the command; these modules hold the connection, the settings the flow
takes from .env and processors/ecommerce_pipeline/segment_sql, the process group's life cycle and its status report.
"""
