"""NWB export needs the ``nwb`` extra; without it, one error that says how to install it."""

from __future__ import annotations

from napari_scanimage.export.errors import ExportError

__all__ = ["require_nwb"]


def require_nwb() -> None:
    """Import pynwb, hdmf and PyYAML, or raise an :class:`ExportError` naming the extra."""
    try:
        import hdmf  # noqa: F401, PLC0415 - imported here so the CLI starts fast
        import pynwb  # noqa: F401, PLC0415
        import yaml  # noqa: F401, PLC0415
    except ImportError as exc:
        msg = (
            f"NWB export needs pynwb, hdmf and PyYAML ({exc}); "
            "install them with: pip install 'napari-scanimage[nwb]'"
        )
        raise ExportError(msg) from exc
