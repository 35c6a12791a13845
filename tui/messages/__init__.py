"""Messages: what thread workers post back to the screens, and navigation requests."""
