"""Why a run failed, in the user's terms: the errors its failure events carry, each chain followed
down to the exception the project's code raised (Dagster wraps it in step and resource errors)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import dagster as dg
from dagster._utils.error import SerializableErrorInfo  # the error chain failure events carry

DAGSTER_MODULE_PREFIX = "dagster."


@dataclass(frozen=True)
class FailureCause:
    """One error of a failed run: its class (`module.Name`, a builtin just `Name`), its message
    without the class, and the step it failed (None for the run itself, e.g. a resource)."""

    type_name: str
    message: str
    step: str | None = None

    @property
    def is_dagster(self) -> bool:
        return self.type_name.startswith(DAGSTER_MODULE_PREFIX)


def failure_causes(events: Iterable[dg.DagsterEvent]) -> list[FailureCause]:
    """The errors of the run's failure events, step failures first, each chain (cause and
    context) from the outermost wrapper to the innermost error, no error twice."""
    found: list[FailureCause] = []
    seen: set[tuple[str, str]] = set()
    ordered = sorted(events, key=lambda e: not e.is_step_failure)  # stable: step failures first
    for event in ordered:
        error = getattr(event.event_specific_data, "error", None)
        if not isinstance(error, SerializableErrorInfo):
            continue
        for info in _chain(error):
            cause = _cause(info, event.step_key)
            if (cause.type_name, cause.message) not in seen:
                seen.add((cause.type_name, cause.message))
                found.append(cause)
    return found


def user_causes(causes: list[FailureCause]) -> list[FailureCause]:
    """The causes raised outside Dagster (the project's or a library's), innermost last."""
    return [c for c in causes if not c.is_dagster]


def _chain(error: SerializableErrorInfo) -> list[SerializableErrorInfo]:
    chain: list[SerializableErrorInfo] = []
    current: SerializableErrorInfo | None = error
    while current is not None and len(chain) < 20:
        chain.append(current)
        current = current.cause or current.context
    return chain


def _cause(info: SerializableErrorInfo, step: str | None) -> FailureCause:
    """The class and message of `info`, whose message reads `module.Name: text` (traceback's
    format of the exception's last line)."""
    first, sep, rest = info.message.partition(": ")
    qualified = first.strip()
    if sep and (qualified == info.cls_name or qualified.endswith(f".{info.cls_name}")):
        return FailureCause(qualified, rest.strip(), step)
    return FailureCause(info.cls_name, info.message.strip(), step)
