"""pytest plugin: real PostgreSQL and NATS servers for the integration tests."""
