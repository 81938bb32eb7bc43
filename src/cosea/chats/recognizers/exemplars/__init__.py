"""Exemplar phrases per technique for the optional semantic recognizer (YAML)."""
