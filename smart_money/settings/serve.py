"""HTTP service settings."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

ADMIN_TOKEN_VARIABLE = "SMART_MONEY_ADMIN_TOKEN"


@dataclass(frozen=True)
class ServeSettings:
    """`admin_token`: the bearer token that may switch the feature toggle (None: nobody can)."""

    admin_token: str | None = field(default=None, repr=False)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ServeSettings:
        env = os.environ if environ is None else environ
        return cls(admin_token=env.get(ADMIN_TOKEN_VARIABLE, "").strip() or None)
