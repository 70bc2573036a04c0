"""A progress display for long steps, fed by the domain's ``(label, done, total)`` callbacks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from openbureau.cli._common import console

LABELS = {
    "people": "drawing people and their repayment paths",
    "months": "simulating months and writing furnisher files",
    "truth": "writing ground truth",
}


@contextmanager
def progress_display(enabled: bool = True) -> Iterator[Callable[[str, int, int], None]]:
    if not enabled:
        yield lambda _label, _done, _total: None
        return
    with Progress(
        TextColumn("  {task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=False,
    ) as bar:
        tasks: dict[str, TaskID] = {}

        def update(label: str, done: int, total: int) -> None:
            if label not in tasks:
                tasks[label] = bar.add_task(LABELS.get(label, label), total=total)
            bar.update(tasks[label], completed=done, total=total)

        yield update
