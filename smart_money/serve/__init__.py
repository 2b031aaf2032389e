"""Serving: the prediction service, feature toggle, smart-money event access (pure modules)
and the FastAPI app with its web page (`app.py`, `static/`)."""
