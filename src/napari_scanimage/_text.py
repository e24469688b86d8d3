"""Small helpers for the sentences we show users (warnings, errors, summaries)."""

from __future__ import annotations

__all__ = ["number_ranges", "plural"]


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``count`` and the noun, singular for exactly one.

    Examples
    --------
    >>> plural(1, "page"), plural(16, "page"), plural(2, "ROI strip")
    ('1 page', '16 pages', '2 ROI strips')
    """
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def number_ranges(numbers: list[int] | tuple[int, ...]) -> str:
    """Numbers with runs shortened, so 30 LBM channels fit on one line.

    Examples
    --------
    >>> number_ranges(range(1, 31)), number_ranges([1, 4]), number_ranges([1, 2, 3, 7])
    ('1-30', '1, 4', '1-3, 7')
    """
    parts: list[str] = []
    values = list(numbers)
    start = 0
    for i in range(1, len(values) + 1):
        if i < len(values) and values[i] == values[i - 1] + 1:
            continue
        run = values[start:i]
        parts.append(f"{run[0]}-{run[-1]}" if len(run) >= 3 else ", ".join(map(str, run)))
        start = i
    return ", ".join(parts)
