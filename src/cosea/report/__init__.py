"""Reports and intelligence sharing: evidence packages, CyberTipline-shaped reports, STIX, playbooks."""
