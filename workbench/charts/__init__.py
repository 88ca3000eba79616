"""Views that draw: every altair chart of workbench (flame graphs, flame charts, differential flame
graphs, the Sandwich, the metrics timeline). Charts render what analyses return and compute nothing else."""


def use_offline_charts() -> None:
    """Draw every altair chart as an offline ``JupyterChart`` widget (vega JS from vl-convert, no
    CDN), so charts render in a JupyterLab without network and embed into reports."""
    import altair as alt
    alt.JupyterChart.enable_offline()
    alt.renderers.enable("jupyter", offline=True)
