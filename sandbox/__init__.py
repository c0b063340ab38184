"""Department sandbox for development and tests; see ``sandbox.app.create_app``."""
