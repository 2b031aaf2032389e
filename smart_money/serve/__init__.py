"""Serving: the prediction service, feature provider, rules, feature toggles and smart-money
event reader (pure modules, no web framework inside), the JSON-lines predictor, and the FastAPI
app: `app.py` (the factory, wiring only), `routers/` (one module per resource),
`dependencies.py` (how routes reach the shared objects), `problems.py` (error responses),
`api_models.py` (the request and response schema) and `static/` (the web page)."""
