"""A re-creation of the original demo: each stage a script, run as NiFi's ExecuteStreamCommand ran it."""
