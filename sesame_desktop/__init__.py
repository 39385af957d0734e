"""Sesame Desktop: run coding agents in cloud sandboxes with clicks."""

APP_NAME = "Sesame Desktop"
APP_ID = "sesame-desktop"


def __getattr__(name: str) -> str:
    """``__version__``, read from the installed package's metadata when first asked for
    (``importlib.metadata`` costs a start-up about 20 ms: the first window does not need it)."""
    if name != "__version__":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import metadata

    try:
        version = metadata.version("sesame-desktop")
    except metadata.PackageNotFoundError:  # running from a source tree that is not installed
        version = "0.1.0"
    globals()["__version__"] = version
    return version
