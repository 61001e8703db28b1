"""SIGINT and SIGTERM deferred across the few system calls that swap an export into place.

Only non-blocking calls run while they are held (renames, ``lstat``, ``unlink``, ``rmdir``,
listing a folder): nothing is opened or read there, so a named pipe can never make the held
section wait. SIGKILL cannot be held; all-or-nothing under it comes from the swap itself
(:func:`convlab.export.exchange.exchange`).
"""

from __future__ import annotations

import signal

HELD_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class SignalHold:
    """SIGINT and SIGTERM deferred from :meth:`hold` until :meth:`release`, then handled.

    In the main thread the Python handlers are swapped for one that only records the signal,
    and ``release`` puts them back and raises what was recorded. Masking the signal
    (``pthread_sigmask``) is not enough there: the mask is per thread, and the kernel hands a
    process-wide signal to any thread that does not block it (OpenBLAS's workers), after which
    Python runs the handler in the main thread anyway, in the middle of the final step. In
    other threads (the window's export worker), where handlers cannot be set and Python never
    runs them, the thread's mask is used."""

    def __init__(self):
        self.previous: dict[int, object] | None = None
        self.mask = None
        self.caught: list[int] = []

    def hold(self) -> "SignalHold":
        try:
            self.previous = {s: signal.signal(s, self._record) for s in HELD_SIGNALS}
        except ValueError:  # not the main thread
            self.previous = None
            if hasattr(signal, "pthread_sigmask"):
                self.mask = signal.pthread_sigmask(signal.SIG_BLOCK, HELD_SIGNALS)
        return self

    def _record(self, signum, _frame) -> None:
        self.caught.append(signum)

    def release(self) -> None:
        if self.previous is not None:
            for signum, handler in self.previous.items():  # None: a handler set outside Python
                signal.signal(signum, signal.SIG_DFL if handler is None else handler)
            self.previous = None
            for signum in dict.fromkeys(self.caught):  # each once, in order of arrival
                signal.raise_signal(signum)  # its own handler runs now, after the final step
        elif self.mask is not None:
            signal.pthread_sigmask(signal.SIG_SETMASK, self.mask)  # a deferred one runs now
            self.mask = None


