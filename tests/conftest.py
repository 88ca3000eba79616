import os

os.environ.setdefault("WORKBENCH_QUIET", "1")
