"""Distributed traces (OTLP/JSON, Jaeger, Zipkin): the Traces model (``model.py``), its builder
(``builder.py``) and the analyses over spans (``latency.py``: percentiles and rates per route over
time; ``critical.py``: critical path and self time; ``changes.py``: change points)."""
