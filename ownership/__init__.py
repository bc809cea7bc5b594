"""Command line and configuration of the app ownership API."""
