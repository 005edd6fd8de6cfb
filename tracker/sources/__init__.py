"""Reading inputs (files, web pages, feeds, PDFs) into Documents: `read(ref, config)`."""

from tracker.sources.reader import read

__all__ = ["read"]
