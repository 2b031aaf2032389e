"""The HTTP service's routes, one module per resource; `smart_money.serve.app.create_app`
includes them."""
