"""All wiring in one place: which components each worker topic runs, and how they are built.

`eaflow run`, `eaflow worker TOPIC...`, `eaflow gateway`, the benchmarks and plugins all
build a `Pipeline` with `build_pipeline` and install topics into it with `install`; one
module per built-in topic (`router`, `orders`, `ticks`, `sinks`, `gateway`), plugins by
entry point (eaflow/plugins.py).
"""
