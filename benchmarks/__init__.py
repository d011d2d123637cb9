"""The benchmarks, one package run from the repository root with nifi/ importable:
`python3 -m benchmarks.run_benchmarks`.

run_benchmarks drives the approaches (approaches.py: a-d; flow_approach.py: e, the deployed
flow through nifi_control.py), resources.py measures processes and NiFi's process group,
report.py renders the results as Markdown; inputs.py holds the cached inputs and the results
folder. fernet_batch, py4j_transfer and back_pressure are benchmarks of their own.
"""
