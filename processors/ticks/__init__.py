"""Tick feeds and the processors that react to ticks."""
