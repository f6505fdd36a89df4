"""DataDSN: French DSN data for public policy."""

__version__ = "0.1.0"
