"""Application logs (pino, bunyan, winston JSON lines and Node's own stderr warnings): the Logs model
(``model.py``), its builder (``builder.py``) and the analyses over it (``analyses.py``: levels, error
templates mined with drain3, counts over time)."""
