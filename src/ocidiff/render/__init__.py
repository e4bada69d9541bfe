"""Presenters: pure functions from result values to text or bytes. No IO, no terminal access."""
