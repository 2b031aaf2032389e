"""Persisted feature toggles with an audit log (who, when, why).

One JSON file (default `data/serve/feature-toggles.json`), rewritten atomically on each change;
every change appends an audit entry. A feature that was never set is disabled.

A file that cannot be read as toggles (hand-edited, truncated by a full disk) raises
`CorruptToggleFile` naming it (the API answers 503 with that message); a PUT repairs it: the
unreadable file is kept beside it as `<name>.corrupt-<UTC stamp>` and a fresh one is written
with the change and an audit entry saying what was set aside.
"""

from __future__ import annotations

import hmac
import json
import threading
from datetime import UTC, datetime
from pathlib import Path

from smart_money.data import storage

SMART_MONEY_FLOW = "smart-money-flow"
KNOWN_FEATURES = (SMART_MONEY_FLOW,)
AUDIT_SHOWN = 50


class UnknownFeature(KeyError):
    pass


class CorruptToggleFile(RuntimeError):
    """The toggle file exists but is not a JSON object of toggles; the message names it."""


def token_matches(presented: str, expected: str | None) -> bool:
    """Constant-time comparison; no configured token matches nothing."""
    return bool(expected) and hmac.compare_digest(presented.encode(), expected.encode())  # type: ignore[union-attr]


class FeatureToggles:
    def __init__(self, path: Path, now=lambda: datetime.now(UTC)):
        self.path = Path(path)
        self.now = now
        self._lock = threading.Lock()

    def _load(self) -> dict:
        if not self.path.exists():
            return {}
        try:
            data = json.loads(self.path.read_text())
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise CorruptToggleFile(
                f"the feature-toggle file {self.path} is not valid JSON ({exc}); switch the toggle with PUT to "
                "rewrite it (the old file is kept beside it)"
            ) from None
        bad = not isinstance(data, dict) or any(
            not isinstance(entry, dict)
            or not isinstance(entry.get("audit", []), list)
            or not all(isinstance(item, dict) for item in entry.get("audit", []))
            for entry in data.values()
        )
        if bad:
            raise CorruptToggleFile(
                f"the feature-toggle file {self.path} does not hold toggles (expected an object of "
                '{"enabled": ..., "audit": [...]} per feature); switch the toggle with PUT to rewrite it'
            )
        return data

    def state(self, feature: str) -> dict:
        """{feature, enabled, updated_at, updated_by, reason, audit (newest first)}."""
        if feature not in KNOWN_FEATURES:
            raise UnknownFeature(feature)
        with self._lock:
            entry = self._load().get(feature, {})
        audit = entry.get("audit", [])
        last = audit[-1] if audit else {}
        return {
            "feature": feature,
            "enabled": bool(entry.get("enabled", False)),
            "updated_at": last.get("at"),
            "updated_by": last.get("actor"),
            "reason": last.get("reason"),
            "audit": list(reversed(audit[-AUDIT_SHOWN:])),
        }

    def enabled(self, feature: str) -> bool:
        return self.state(feature)["enabled"]

    def set(self, feature: str, enabled: bool, actor: str, reason: str, client: str | None = None) -> dict:
        """Switch a feature and record who did it, when and why."""
        if feature not in KNOWN_FEATURES:
            raise UnknownFeature(feature)
        with self._lock:
            try:
                data = self._load()
                set_aside = None
            except CorruptToggleFile:
                set_aside = self.path.with_name(f"{self.path.name}.corrupt-{self.now():%Y%m%dT%H%M%S%f}")
                self.path.replace(set_aside)
                data = {}
            entry = data.setdefault(feature, {"enabled": False, "audit": []})
            if set_aside is not None:
                reason = f"{reason} (repaired: the unreadable toggle file was kept as {set_aside.name})"
            entry["audit"].append(
                {
                    "at": self.now().isoformat(timespec="seconds"),
                    "actor": actor,
                    "client": client,
                    "enabled": enabled,
                    "previous": bool(entry.get("enabled", False)),
                    "reason": reason,
                }
            )
            entry["enabled"] = enabled
            self.path.parent.mkdir(parents=True, exist_ok=True)
            storage.write_json(self.path, data)
        return self.state(feature)
