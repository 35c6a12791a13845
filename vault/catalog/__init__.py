"""The authoritative record: SQLModel tables on SQLCipher databases, and their queries."""
