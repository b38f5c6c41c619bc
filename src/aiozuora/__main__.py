"""``python -m aiozuora`` and the ``aiozuora`` console script."""

from __future__ import annotations

import sys

__all__ = ["main"]

_MISSING_EXTRA = (
    "aiozuora: the command line needs the cli extra "
    "(click, rich, opentelemetry-sdk): pip install 'aiozuora[cli]'"
)


def main() -> None:
    """Run the command line, or say in one line how to install it."""
    try:
        import click  # noqa: F401
        import opentelemetry.sdk  # noqa: F401
        import rich  # noqa: F401
    except ImportError:
        print(_MISSING_EXTRA, file=sys.stderr)
        raise SystemExit(3) from None

    from .cli import cli

    cli(prog_name="aiozuora")


if __name__ == "__main__":
    main()
