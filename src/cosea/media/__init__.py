"""Media: hash files, keep lists of known material, match against them."""
