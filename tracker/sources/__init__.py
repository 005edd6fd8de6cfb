"""Reading inputs (files, web pages, feeds, PDFs) into Documents: `read(ref, config)`.

Also the outbound HTTP every layer above uses: `http` (limits, user agent) and `ssrf` (the
address check for any URL the service fetches or posts to). May use text, documents, config
and yamlcheck; never store, alerts or anything above.
"""

from tracker.sources.reader import read

__all__ = ["read"]
