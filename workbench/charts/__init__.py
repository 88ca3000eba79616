"""Views that draw: every altair chart of workbench (flame graphs, flame charts, differential flame
graphs, the Sandwich, the metrics timeline). Charts render what analyses return and compute nothing else."""
