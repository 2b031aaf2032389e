"""Dagster's Beta/Preview warnings for the features this project chose on purpose (partitioned
checks, backfill policies, dagster-pandera's column schemas, spec mapping): silenced, so a
`dagster asset materialize` or `dagster dev` log shows what matters. Other warnings stay."""

from __future__ import annotations

import warnings

from dagster._utils.warnings import BetaWarning, PreviewWarning  # the classes Dagster warns with


def quiet_beta_and_preview_warnings() -> None:
    """Ignore BetaWarning and PreviewWarning in this process (one that loads this code location).
    Dagster attributes them to its own decorator modules, not to the caller, so they cannot be
    told apart by module; SupersessionWarning and deprecations still show."""
    for category in (BetaWarning, PreviewWarning):
        warnings.filterwarnings("ignore", category=category)
