"""Service: the API for platforms and the reviewer console."""
