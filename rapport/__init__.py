"""Rapport: an engine for connected customer relationships (recognize, request, respond, repeat)."""

__version__ = "0.1.0"
