"""The local platform: embedded servers, migrations and every service as a local process."""
