"""The incident on one time axis: logs joined to traces by trace id (``join.py``), and metrics, GC
pauses, event-loop delay, request latency, error rate, log errors and snapshot times bucketed onto
one grid (``timeline.py``: the frame the incident chart draws, ``correlate``, and the windows in
which each signal changed). It sits above the subjects (metrics, traces, logs, heap) and below the
views; it receives models, never paths."""
