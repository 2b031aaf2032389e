"""Signal research: disclosure events in event time and calendar time (pure Python, no Dagster).

Families are defined in `families.py`, built from the raw tables in `events.py`, measured by the
event study (`event_study.py`) and calendar-time portfolios (`calendar_time.py`) over one
session x symbol return panel (`panel.py`); `study.py` runs it all.
"""
