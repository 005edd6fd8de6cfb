"""tracker: watches Chinese newspapers for the policies people follow.

A page walks left to right through the package:
sources (bytes in) → text (decode, visible text, normalise) → splitter (a page into spans, articles)
→ rules + matching (hits) → store → alerts → worker / web → cli.

The layers are checked by `make lint` (`.importlinter`); docs/architecture.md walks one page
through them module by module and defines the domain words.
"""

__version__ = "0.1.0"
