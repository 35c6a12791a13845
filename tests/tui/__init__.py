"""Pilot tests of the terminal app against real temporary vaults."""
