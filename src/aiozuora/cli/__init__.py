"""The ``aiozuora`` command line (needs the ``cli`` extra: click and rich)."""

from ._app import cli
from ._demo import demo
from ._simulate import simulate

__all__ = ["cli", "demo", "simulate"]
