"""CPU and allocation profiles: the Profile model (``model.py``, built by ``builder.py`` from what the
readers in ``workbench/io`` parse) and its analyses: call tree, bottom-up functions, Sandwich,
windows, category filters, focus, callers and merging (``calltree.py``), flame graph and flame chart
rectangles (``flame.py``), profile comparison and the differential flame graph (``diff.py``), and
exports to folded stacks and speedscope (``export.py``). Load with ``workbench.load_profile``; charts
of them are in ``workbench.charts.flame``.
"""
