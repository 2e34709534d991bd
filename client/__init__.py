"""Clients of the attendance server: the headless ``attendance-client`` and the desktop app."""
