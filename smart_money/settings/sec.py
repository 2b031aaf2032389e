"""Settings of the SEC downloader, read from the environment when asked (never at import).

sec.gov answers 403 to requests without a declared User-Agent naming who is asking and how to
reach them ("Sample Company Name AdminContact@sample.com"), so one is required; this module is
the only place that reads it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass

from smart_money.settings.run import SettingsError

USER_AGENT_VARIABLE = "SMART_MONEY_SEC_USER_AGENT"
BASE_URL_VARIABLE = "SMART_MONEY_SEC_BASE_URL"
DEFAULT_BASE_URL = "https://www.sec.gov"
EXPECTED_FORM = '"Your Name your.email@example.com"'
# A name (anything without '@'), whitespace, then an e-mail address.
_USER_AGENT = re.compile(r"^[^@]*[^\s@][^@]*\s+[^\s@]+@[^\s@]+\.[^\s@]+$")


def check_user_agent(text: str, variable: str = USER_AGENT_VARIABLE) -> str:
    """The User-Agent, stripped, or SettingsError naming the variable and the expected form."""
    value = (text or "").strip()
    if not value:
        raise SettingsError(
            f"{variable} is not set: set it to {EXPECTED_FORM} (sec.gov refuses requests without a declared name and "
            "e-mail)"
        )
    if not _USER_AGENT.match(value):
        raise SettingsError(
            f"{variable}={value!r} is not a name followed by an e-mail address: expected {EXPECTED_FORM}"
        )
    return value


@dataclass(frozen=True)
class SecSettings:
    user_agent: str
    base_url: str = DEFAULT_BASE_URL  # tests point it at a server on 127.0.0.1

    def __post_init__(self) -> None:
        object.__setattr__(self, "user_agent", check_user_agent(self.user_agent, "the SEC User-Agent"))

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> SecSettings:
        env = os.environ if environ is None else environ
        user_agent = check_user_agent(env.get(USER_AGENT_VARIABLE, ""))
        base_url = env.get(BASE_URL_VARIABLE, "").strip() or DEFAULT_BASE_URL
        if not base_url.startswith(("http://", "https://")):
            raise SettingsError(f"{BASE_URL_VARIABLE}={base_url!r}: expected an http(s) URL such as {DEFAULT_BASE_URL}")
        return cls(user_agent=user_agent, base_url=base_url.rstrip("/"))
