"""The router: validates signals, sizes them and writes one order per target instance."""
