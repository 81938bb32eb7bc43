"""Pattern data files (YAML), one per language, plus shared macros in common.yaml."""
