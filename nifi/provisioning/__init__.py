"""Provisioning of the native stack (MinIO and NiFi) behind the `nifi/stack` command.

One module per job: paths and processes, the .env file, MinIO, Java, the NiFi assembly
(Maven), TLS material, NiFi's conf/, its REST API and the NiFi service itself.
"""
