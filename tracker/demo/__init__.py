"""Demo data written by us: made-up newspaper pages in the messy shapes real ones have."""
