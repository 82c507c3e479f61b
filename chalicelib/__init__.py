"""Echomate's business logic. Nothing here imports Chalice's HTTP layer."""

__version__ = "0.1.0"
