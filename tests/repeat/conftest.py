"""Repeat fixtures: the decide fixtures (a decision store over the real test store on both databases)."""

from tests.decide.conftest import decisions

__all__ = ["decisions"]
