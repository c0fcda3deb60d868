"""Event contracts, one module per producing service (`mynumber_events.numbering`, ...)."""
