"""Turning raw inputs (bytes of unknown encoding, HTML, PDF) into plain text with its line structure.

The lowest layer but for tracker.errors: it imports nothing else of ours.
"""
