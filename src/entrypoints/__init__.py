"""The composition root and the ways in: HTTP app, CLI, job worker, scripting.

Every way in starts here, so this is where structlog is first imported, with ``rich``
hidden. structlog's package import loads its development renderer, which imports rich
and pygments (about 65 modules and 20 ms of a cold start) to offer rich tracebacks
whenever rich is installed, as it is for the CLI's progress bars. Parley never renders
them (tracebacks are plain and never show local variables: ``entrypoints.logging``), and
rich stays importable for whatever asks for it afterwards.
"""

import sys as _sys


def _import_structlog_without_rich() -> None:
    if "structlog" in _sys.modules or "rich" in _sys.modules:
        return
    _sys.modules["rich"] = None  # type: ignore[assignment]  # makes `import rich` fail
    try:
        import structlog  # noqa: F401
    finally:
        del _sys.modules["rich"]


_import_structlog_without_rich()
