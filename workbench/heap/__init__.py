"""Heap snapshot analyses (DevTools-exact passes, Summary, Statistics, and leak hunting)."""
