"""Triage: scan seized media into a case with chain of custody, verify it, report on it."""
