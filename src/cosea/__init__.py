"""cosea: tools to detect and respond to child online sexual exploitation and abuse."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("cosea")
except PackageNotFoundError:  # running from a source tree without an install
    __version__ = "0.0.0+local"

__all__ = ["__version__"]
