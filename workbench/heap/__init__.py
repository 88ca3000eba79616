"""Heap snapshot analyses (DevTools-exact passes, Summary, Statistics, and leak hunting)."""
from .._memory import tune_malloc

tune_malloc()
