"""Shared runtime of the My Number platform: mechanisms only, never a service's rules."""
