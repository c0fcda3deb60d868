"""The gateway: REST (OpenAPI 3.1) over HTTPS with client certificates, in front of the platform's gRPC services."""
