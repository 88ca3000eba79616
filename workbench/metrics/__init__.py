"""Metric exports, GC logs and Doctor recordings as one long table (``model.py``, built by
``builder.py`` from what the readers in ``workbench/io`` parse), with leak (``leak.py``), event-loop
(``eventloop.py``), GC (``gc.py``) and correlation (``correlate.py``) analyses and a
Clinic.js-Doctor-compatible diagnosis (``diagnose.py``). Load with ``workbench.load_metrics``.
"""
