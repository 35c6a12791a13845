"""The content-addressed object store: addressing, padding, atomic writes and the writer lock."""
