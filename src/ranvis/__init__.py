"""ranvis: deep visualization with untrained, random-weight convolutional networks."""
from ranvis._version import __version__

__all__ = ["__version__"]
