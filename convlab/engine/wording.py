"""Counts, shapes and costs as words: one style for the window, the files and the command line.

Pure Python (no arrays), at the bottom of the layers so that the engine's own sentences use it
too. Every count with its noun goes through :func:`count_noun`, every shape through
:func:`shape_text`, every multiply-add figure through :func:`macs_text`.

>>> count_noun(1, "row"), count_noun(2, "row"), count_noun(3, "patch", "patches")
('1 row', '2 rows', '3 patches')
>>> shape_text((96, 55, 55)), shape_text(())
('96 × 55 × 55', '—')
>>> macs_text(105_415_200), macs_text(1_142_000_000), macs_text(0)
('105 M', '1.14 G', '0')
"""

from __future__ import annotations

TIMES = " × "  # between the numbers of a shape: "96 × 55 × 55"


def plural(n: int, noun: str, many: str | None = None) -> str:
    """``noun`` for 1 (and -1), else ``many`` (default ``noun + "s"``)."""
    return noun if abs(n) == 1 else (many or noun + "s")


def count_noun(n: int, noun: str, many: str | None = None) -> str:
    """``"1 row"``, ``"2 rows"``, ``"1,024 values"``: the count (thousands separated) and the
    noun in the number it needs (``many`` for an irregular plural)."""
    return f"{n:,} {plural(n, noun, many)}"


def shape_text(shape, sep: str = TIMES) -> str:
    """The one shape formatter: ``(96, 55, 55)`` -> ``96 × 55 × 55`` (``sep`` between the
    numbers); None or () -> ``—``."""
    return sep.join(str(v) for v in shape) if shape else "—"


def macs_text(n: int) -> str:
    """Multiply-adds in M (millions) below a billion, else G, three significant digits:
    ``553 M``, ``0.15 M``, ``1.14 G``; 0 -> ``0``."""
    if not n:
        return "0"
    if n >= 1e9:
        return f"{n / 1e9:.3g} G"
    return f"{n / 1e6:.3g} M"
