"""OpenBureau: an open-source consumer credit information system."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("openbureau")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"

__all__ = ["__version__"]
