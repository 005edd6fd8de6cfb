"""The error for bad input, shared by every layer from decoding up (it imports nothing of ours),
and the problem a reader meets while reading a source (FetchProblem)."""

from __future__ import annotations

from types import MappingProxyType
from typing import Any, Mapping

# What went wrong reading a source, as codes (FetchProblem.code, InputError.code), with the
# fields each may carry: http_status (status), timeout (seconds), unreachable, not_http (scheme),
# bad_url, unsafe_url (reason, check, host), off_host (target), redirect_loop (limit), too_large
# (limit; size when said), bad_encoding, not_found, unreadable, empty, outside_folder; the
# e-paper and policy readers' named problems (tracker.sources.epaper.problems, the name's "-" as
# "_"): script_built, unknown_layout (layout), too_many_links (count, limit), too_many_pages
# (count, limit), too_many_articles (limit), deadline (limit), forward_loop, undated_forward,
# pdf_unreadable, no_links (pattern), no_text; and other: a problem not told apart (its English
# says it).
FETCH_CODES = ("http_status", "timeout", "unreachable", "not_http", "bad_url", "unsafe_url",
               "off_host", "redirect_loop", "too_large", "bad_encoding", "not_found", "unreadable",
               "empty", "outside_folder", "script_built", "unknown_layout", "too_many_links",
               "too_many_pages", "too_many_articles", "deadline", "forward_loop",
               "undated_forward", "pdf_unreadable", "no_links", "no_text", "other")


class InputError(Exception):
    """An input that cannot be read: says which input and what is wrong, never a traceback.
    `code` (one of FETCH_CODES) and `fields` say what is wrong for whoever says it in another
    language (the admin pages); `problem` is the English."""

    def __init__(self, where: str, problem: str, status: int | None = None, *,
                 code: str | None = None, fields: Mapping[str, Any] | None = None):
        super().__init__(f"{where}: {problem}")
        self.where = where
        self.problem = problem
        self.status = status  # the HTTP status when a server answered with an error
        self.code = code or ("http_status" if status is not None else "other")
        assert self.code in FETCH_CODES, self.code
        self.fields = dict(fields or {}, **({"status": status} if status is not None else {}))


class FetchProblem(str):
    """A problem met reading a source (one page, article or file skipped): the English line
    `where: problem` (what the CLI, the logs and the runs table show: it *is* that string) with
    its `code` (one of FETCH_CODES) and `fields` beside it, so the admin pages say it in Chinese
    by code (tracker.web.problems.fetch_problem) and the English may be reworded freely."""

    where: str
    problem: str
    code: str
    fields: Mapping[str, Any]

    def __new__(cls, where: str, problem: str, code: str = "other",
                fields: Mapping[str, Any] | None = None) -> FetchProblem:
        assert code in FETCH_CODES, code
        self = super().__new__(cls, f"{where}: {problem}")
        for name, value in (("where", where), ("problem", problem), ("code", code),
                            ("fields", MappingProxyType(dict(fields or {})))):
            object.__setattr__(self, name, value)
        return self

    def __setattr__(self, name: str, value: object) -> None:
        raise AttributeError(f"a FetchProblem is frozen: {name} cannot be set")

    def __reduce__(self) -> tuple:
        return FetchProblem, (self.where, self.problem, self.code, dict(self.fields))

    @property
    def english(self) -> str:
        return str.__str__(self)

    @classmethod
    def of(cls, where: str, problem: str | BaseException) -> FetchProblem:
        """The problem at `where`: an InputError's own code and fields (its English without its
        `where`), a FetchProblem's, or any other text or exception as `other`."""
        if isinstance(problem, FetchProblem):
            return cls(where, problem.problem, problem.code, problem.fields)
        if isinstance(problem, InputError):
            return cls(where, problem.problem, problem.code, problem.fields)
        return cls(where, str(problem))
