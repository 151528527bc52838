"""One page per module; routes live in `app/routes.py`."""
