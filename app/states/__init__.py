"""One state class per page; each reads the engine's store through `app.services.engine_service`."""
