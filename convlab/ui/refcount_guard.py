"""Keep None, True and False alive under PySide6 builds that drop references to them.

Measured with PySide6-Essentials 6.12.0 on CPython 3.11.7: every call of a void method
(``setValue``, ``update``, ...) takes one reference from ``None`` and every ``Signal.emit`` one
from ``True``, without having added it. From CPython 3.12 these objects are immortal
(PEP 683) and nothing happens; on 3.11 the interpreter aborts ("deallocating None") after a
few hundred signals. :func:`install` measures the leak with a throw-away QObject and, only
when it is there, raises the three reference counts far out of reach, which is what 3.12 does.
"""

from __future__ import annotations

import ctypes
import sys

HEADROOM = 1 << 40  # ~1e12 calls: years of continuous use at 10,000 calls a second
_installed = False


def _loses_references() -> bool:
    from PySide6.QtCore import QObject, Signal

    class _Probe(QObject):
        ping = Signal()

    probe = _Probe()
    none_before, true_before = sys.getrefcount(None), sys.getrefcount(True)
    for _ in range(16):
        probe.setObjectName("probe")
        probe.ping.emit()
    return (sys.getrefcount(None) < none_before - 8) or (sys.getrefcount(True) < true_before - 8)


def install() -> bool:
    """Apply the guard if this interpreter and PySide6 need it; True when it was applied."""
    global _installed
    if _installed or sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return _installed
    if not _loses_references():
        return False
    for obj in (None, True, False):
        ctypes.c_ssize_t.from_address(id(obj)).value += HEADROOM  # ob_refcnt is the first field
    _installed = True
    return True
