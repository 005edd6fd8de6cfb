"""The error for bad input, shared by every layer from decoding up (it imports nothing of ours)."""

from __future__ import annotations


class InputError(Exception):
    """An input that cannot be read: says which input and what is wrong, never a traceback."""

    def __init__(self, where: str, problem: str, status: int | None = None):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
        self.status = status  # the HTTP status when a server answered with an error
