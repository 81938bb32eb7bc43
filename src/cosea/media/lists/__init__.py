"""Hash lists (banks) of known material, stored in the project database."""
