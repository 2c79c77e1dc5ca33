"""Progress on stderr while targets are audited: one line per active target (its stage) and the
overall done/total with the elapsed time (rich.progress, transient). Nothing at all when stderr is
not a terminal or with --quiet, so logs and CI output stay clean.
"""

from __future__ import annotations

import sys
import threading
from types import TracebackType
from typing import IO, TYPE_CHECKING

from auditor.report.safe_text import safe

if TYPE_CHECKING:
    from rich.progress import Progress, TaskID

FINAL = frozenset({"done", "failed"})


class FleetProgress:
    """A ProgressFn (target, stage) for the engine and the live flow, shown with rich when enabled."""

    def __init__(self, total: int, *, enabled: bool | None = None, stream: IO[str] | None = None) -> None:
        out = stream or sys.stderr
        self.enabled = (out.isatty() if enabled is None else enabled) and total > 0
        self.total = total
        self._lock = threading.Lock()
        self._tasks: dict[str, TaskID] = {}
        self._finished: set[str] = set()
        self._progress: Progress | None = None
        self._overall: TaskID | None = None
        if self.enabled:  # rich is imported only for a display that is shown
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                SpinnerColumn,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(
                SpinnerColumn(),
                TextColumn("{task.description}", style="bold"),
                TextColumn("{task.fields[stage]}"),
                BarColumn(bar_width=None if total > 1 else 0),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                console=Console(file=out, highlight=False),
                transient=True,
            )

    def __enter__(self) -> FleetProgress:
        if self._progress is not None:
            self._progress.start()
            self._overall = self._progress.add_task("targets", total=self.total, stage="")
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        if self._progress is not None:
            self._progress.stop()

    def __call__(self, target: str, stage: str) -> None:
        if self._progress is None:
            return
        with self._lock:
            if target in self._finished:
                return
            name = safe(target)[:60]
            if stage in FINAL:
                self._finished.add(target)
                task = self._tasks.pop(target, None)
                if task is not None:
                    self._progress.remove_task(task)
                if self._overall is not None:
                    self._progress.advance(self._overall)
                return
            task = self._tasks.get(target)
            if task is None:
                self._tasks[target] = self._progress.add_task(name, total=None, stage=stage)
            else:
                self._progress.update(task, stage=stage)

    @property
    def finished(self) -> int:
        return len(self._finished)
