"""Signal research: disclosure events, event studies and calendar-time portfolios (pure)."""
