"""Tools over the whole lake once NiFi has stored it: SQL queries, key rotation and erasure of a customer.

They need only the S3 endpoint and an identity: the analyst (read-only) queries, the
maintainer rewrites. `layout` says what the lake holds, `store` reads and rewrites its
objects, `passes` walks it resumably; `query`, `rotation` and `erasure` are the commands' cores.
"""
