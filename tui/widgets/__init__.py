"""Widgets the screens share: safe text, the virtual table, dashboard panels, document sections."""
