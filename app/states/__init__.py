"""One state class per page (the flow editor's split in parts: `editor*.py`), and the guard
every event passes; each reads the engine's store through `app.services.engine_service`."""
