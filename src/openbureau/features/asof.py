"""The as-of date: what "known on that date" means for monthly furnished data.

A furnisher file describes one reporting month and arrives after that month ends, so a
monthly record is *known from the end of its reporting month*. An as-of date ``D`` (the end
of that day) therefore sees the reporting months that ended on or before ``D``: the *cut-off
month* is ``D``'s own month when ``D`` is its last day, else the month before. Everything
monthly (account history, payment transactions) is cut at that month; things recorded as
they happen (hard inquiries) are cut at ``D`` itself.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass

from openbureau.errors import FeatureError


def month_index(day: dt.date) -> int:
    """Months since year 0: ``year * 12 + month - 1`` (the SQL computes the same)."""
    return day.year * 12 + day.month - 1


def month_start(index: int) -> dt.date:
    return dt.date(index // 12, index % 12 + 1, 1)


def month_end(index: int) -> dt.date:
    first = month_start(index)
    return first.replace(day=calendar.monthrange(first.year, first.month)[1])


@dataclass(frozen=True, order=True)
class AsOf:
    """An as-of date and the reporting month it cuts at."""

    date: dt.date

    @classmethod
    def parse(cls, text: str | dt.date) -> AsOf:
        """``YYYY-MM-DD``, or ``YYYY-MM`` meaning the last day of that month."""
        if isinstance(text, dt.date):
            return cls(text)
        value = text.strip()
        try:
            if len(value) == 7:
                return cls(month_end(month_index(dt.date.fromisoformat(value + "-01"))))
            return cls(dt.date.fromisoformat(value))
        except ValueError as e:
            raise FeatureError(f"as-of date must be YYYY-MM-DD or YYYY-MM, got {text!r}") from e

    @classmethod
    def end_of_month(cls, index: int) -> AsOf:
        return cls(month_end(index))

    @property
    def key(self) -> str:
        """The partition value in the lake: ``YYYY-MM-DD``."""
        return self.date.isoformat()

    @property
    def cutoff_index(self) -> int:
        """Month index of the last reporting month known on this date."""
        idx = month_index(self.date)
        return idx if self.date == month_end(idx) else idx - 1

    @property
    def cutoff_month(self) -> dt.date:
        """First day of the last reporting month known on this date."""
        return month_start(self.cutoff_index)

    @property
    def cutoff_end(self) -> dt.date:
        """Last day of the cut-off month."""
        return month_end(self.cutoff_index)

    def months_later(self, months: int) -> AsOf:
        """The end of the reporting month ``months`` after the cut-off month."""
        return AsOf.end_of_month(self.cutoff_index + months)

    def __str__(self) -> str:
        return self.key


__all__ = ["AsOf", "month_end", "month_index", "month_start"]
