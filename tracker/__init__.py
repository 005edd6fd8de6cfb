"""tracker: watches Chinese newspapers for the policies people follow.

A page walks left to right through the package:
sources (bytes in) → text (decode, visible text, normalise) → articles (split a page)
→ rules + matching (hits) → store → alerts → web.
"""

__version__ = "0.1.0"
