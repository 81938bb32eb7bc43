"""The COSEA matrix: a machine-readable knowledge base of tactics, techniques and mitigations."""
