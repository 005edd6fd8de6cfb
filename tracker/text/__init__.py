"""Turning raw inputs (bytes of unknown encoding, HTML, PDF) into plain text with its line structure."""
