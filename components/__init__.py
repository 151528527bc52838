"""Reusable UI pieces: pure functions of state vars."""
