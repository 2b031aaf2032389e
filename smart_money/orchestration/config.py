"""Launchpad configs derived from the core's dataclasses, so a Dagster config and the domain
object it builds can never disagree on a field or a default."""

from __future__ import annotations

import dataclasses
import typing

import dagster as dg
import pydantic


def launchpad_config(source: type, name: str, doc: str, exclude: tuple[str, ...] = ()) -> type[dg.Config]:
    """A `dg.Config` with the fields, types and defaults of the dataclass `source` (fields with a
    default factory and those in `exclude` left out); `source(**config.model_dump())` rebuilds it."""
    hints = typing.get_type_hints(source)
    fields = {
        f.name: (hints[f.name], f.default)
        for f in dataclasses.fields(source)
        if f.name not in exclude and f.default is not dataclasses.MISSING
    }
    return pydantic.create_model(name, __base__=dg.Config, __doc__=doc, __module__=source.__module__, **fields)  # type: ignore[call-overload]
