"""Check-in: walking what arrives, opening containers safely, and saying what each item is.

`vault.ingest.containers` tells whether an item is a container (by content) and lists its members
as bounded streams, writing nothing to the filesystem; `vault.ingest.names` makes every name safe
to show and faithful to record; `vault.ingest.limits` holds the limits and the per-intake budget
that keep hostile input from exhausting memory, disk or time.
"""
