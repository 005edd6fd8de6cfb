"""Every setting of tracker, once: its name, type, default, check and help (Datasette's SETTINGS,
Miniflux's options). The worker, the CLI and the web app read them through `load_config`
(tracker.config): defaults from here, then `instance/config.py`, then `TRACKER_*` variables;
each value is checked and converted here, and a wrong one stops the start with
`TRACKER_X: expected …, got …`. docs/configuration.md is made from this table
(`python -m tracker.settings > docs/configuration.md`; a test fails when they differ).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Any, Callable, Mapping


class SettingError(ValueError):
    """A setting whose value cannot be used; the message names it as it is set."""


@dataclass(frozen=True)
class Setting:
    name: str  # without the TRACKER_ prefix
    kind: str  # str | int | float | bool | list (comma-separated numbers)
    default: Any
    help: str
    section: str
    minimum: float | None = None
    choices: tuple[str, ...] = ()
    secret: bool = False  # never shown in full (docs say "(secret)")
    case: str = ""  # "upper" or "lower": the value's case does not matter

    def convert(self, value: Any) -> Any:
        """The value as this setting's type; SettingError saying what was expected."""
        try:
            converted = _CONVERT[self.kind](value)
        except (TypeError, ValueError):
            raise SettingError(f"TRACKER_{self.name}: expected {_EXPECTED[self.kind]}, "
                               f"got {value!r}") from None
        if self.case:
            converted = converted.upper() if self.case == "upper" else converted.lower()
        if self.minimum is not None and converted < self.minimum:
            raise SettingError(f"TRACKER_{self.name}: expected at least {self.minimum:g}, "
                               f"got {value!r}")
        if self.choices and converted not in self.choices:
            raise SettingError(f"TRACKER_{self.name}: expected one of {', '.join(self.choices)}, "
                               f"got {value!r}")
        return converted


def _bool(value: Any) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("1", "true", "yes", "on"):
        return True
    if isinstance(value, str) and value.strip().lower() in ("0", "false", "no", "off", ""):
        return False
    raise ValueError(value)


def _int(value: Any) -> int:
    if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
        raise ValueError(value)
    return int(value)


def _float(value: Any) -> float:
    if isinstance(value, bool):
        raise ValueError(value)
    return float(value)


def _str(value: Any) -> str:
    if value is None:
        return ""
    if not isinstance(value, (str, int, float)) or isinstance(value, bool):
        raise ValueError(value)
    return str(value)


def _list(value: Any) -> str:
    """Comma-separated non-negative numbers, kept as written (RETRY_DELAYS)."""
    text = ",".join(str(v) for v in value) if isinstance(value, (list, tuple)) else str(value)
    if any(float(part) < 0 for part in text.split(",")):
        raise ValueError(value)
    return text


_CONVERT: dict[str, Callable[[Any], Any]] = {"str": _str, "int": _int, "float": _float,
                                             "bool": _bool, "list": _list}
_EXPECTED = {"str": "text", "int": "a whole number", "float": "a number",
             "bool": "1 or 0 (true/false, yes/no, on/off)",
             "list": "numbers separated by commas, e.g. 5,300,1800"}

S = Setting
SETTINGS: tuple[Setting, ...] = (
    # -- where things are
    S("RULES", "str", "rules", "The rule file or folder. The admin's editor writes here: in "
      "production keep it in a volume, not in a checkout.", "files"),
    S("DATABASE", "str", "tracker.db", "The archive (SQLite), in the instance folder unless "
      "absolute.", "files"),
    S("SOURCES", "str", "sources.yaml", "The sources file, in the instance folder unless "
      "absolute.", "files"),
    S("CACHE", "str", "", "Where parsed rule files are kept between runs; empty: the user's "
      "cache folder ($XDG_CACHE_HOME/tracker or ~/.cache/tracker).", "files"),
    # -- fetching
    S("FOLDER_SETTLE_SECONDS", "float", 5.0, "A dropped file younger than this is still being "
      "copied: it waits for the next run.", "fetching", minimum=0),
    S("MAX_DOCUMENT_BYTES", "int", 32 * 1024 * 1024, "Larger inputs are refused before they are "
      "read whole (also the limit of a decompressed body).", "fetching", minimum=1),
    S("HTTP_CONNECT_TIMEOUT", "float", 10.0, "Seconds to connect.", "fetching", minimum=0),
    S("HTTP_READ_TIMEOUT", "float", 20.0, "Seconds between bytes.", "fetching", minimum=0),
    S("HTTP_TOTAL_TIMEOUT", "float", 30.0, "Seconds for a whole download, the wait for the "
      "headers included.", "fetching", minimum=0),
    S("PDF_MAX_MEMORY", "int", 256 * 1024 * 1024, "Bytes of memory the child process reading "
      "one PDF may use.", "fetching", minimum=1),
    S("PDF_TIMEOUT", "float", 30.0, "Seconds the child process reading one PDF may take.",
      "fetching", minimum=0),
    S("EPAPER_DEADLINE", "float", 120.0, "Seconds for one e-paper issue (index, pages, "
      "articles).", "fetching", minimum=0),
    S("EPAPER_MAX_PAGES", "int", 40, "Pages read of one e-paper issue.", "fetching", minimum=1),
    S("EPAPER_MAX_ARTICLES", "int", 400, "Articles read of one e-paper issue.", "fetching",
      minimum=1),
    S("EPAPER_MAX_PAGE_LINKS", "int", 300, "A page listing more article links than this is not "
      "a newspaper page.", "fetching", minimum=1),
    S("POLICY_DEADLINE", "float", 120.0, "Seconds for one run of a policy list source.",
      "fetching", minimum=0),
    S("POLICY_MAX_ARTICLES", "int", 100, "New documents read per run of a policy list source.",
      "fetching", minimum=1),
    # -- the worker
    S("FETCH_AT_START", "bool", False, "Fetch every source once when the worker starts, then "
      "on its schedule.", "worker"),
    S("SOURCES_RELOAD_SECONDS", "float", 60.0, "How often the worker looks for a changed "
      "sources file.", "worker", minimum=0),
    S("STOP_GRACE_SECONDS", "float", 60.0, "On SIGTERM, how long the worker waits for the jobs "
      "under way.", "worker", minimum=0),
    S("LOCK_HEARTBEAT_SECONDS", "float", 30.0, "How often the worker renews its lock; "
      "/readyz and `tracker health` call it dead after two missed beats.", "worker",
      minimum=0),
    S("REMATCH_DAYS", "float", 7.0, "Articles first seen this many days back under other "
      "rules than those in force are matched again and their alerts queued (0: never).",
      "worker", minimum=0),
    S("HEALTH_FAIL_RUNS", "int", 3, "A source failing this many runs in a row is an episode "
      "of bad health.", "worker", minimum=1),
    S("HEALTH_GAP_FACTOR", "float", 2.0, "A source with no new article for this many times its "
      "usual gap is silent.", "worker", minimum=0),
    S("HEALTH_MIN_HISTORY", "int", 4, "Runs of history a source needs before silent, empty or "
      "low is judged.", "worker", minimum=1),
    S("HEALTH_LOW_RATIO", "float", 0.25, "A run reading less than this share of the source's "
      "median is low.", "worker", minimum=0),
    S("HEALTH_LOW_MIN", "float", 8.0, "Low is judged only when the median is at least this.",
      "worker", minimum=0),
    S("ADMIN_ALERTS", "str", "", "Where source-health alerts go: an email address, a webhook "
      "URL or an Apprise URL; empty: the dashboard only.", "worker"),
    S("ADMIN_WEBHOOK_SECRET", "str", "", "The whsec_… secret that signs the admin's webhook; "
      "empty: derived from the secret key.", "worker", secret=True),
    # -- alerts
    S("BASE_URL", "str", "http://127.0.0.1:5000", "Where the links in alerts point: the "
      "address people open the web app at.", "alerts"),
    S("TIMEZONE", "str", "Asia/Shanghai", "Digests, dates in messages and the admin's times.",
      "alerts"),
    S("DIGEST_HOUR", "int", 8, "The hour daily and weekly digests go out.", "alerts", minimum=0),
    S("DIGEST_WEEKDAY", "int", 0, "The weekday weekly digests go out (0 is Monday).", "alerts",
      minimum=0),
    S("RETRY_DELAYS", "list", "5,300,1800,7200,18000,36000,36000", "Seconds between attempts "
      "of a failing delivery; 0 is the next run.", "alerts"),
    S("DELIVERY_INTERVAL", "float", 60.0, "Seconds between the worker's delivery runs (instant "
      "alerts also go right after the fetch that found them).", "alerts", minimum=0),
    S("WELCOME_DAYS", "int", 7, "A new subscriber's first alert holds the articles of this "
      "many days, by issue date (0: none).", "alerts", minimum=0),
    S("CONFIRM_MAX_AGE", "int", 7 * 24 * 3600, "Seconds a confirmation link stays valid.",
      "alerts", minimum=1),
    S("NOTICES_PER_DAY", "int", 3, "Confirmation and reminder mails one mailbox gets in 24 "
      "hours (name+tag@ counted as name@; 0: none).", "alerts", minimum=0),
    S("MAIL_FROM", "str", "政策追踪 <tracker@localhost>", "The sender of every mail.", "alerts"),
    S("UNSUBSCRIBE_MAILTO", "str", "", "Adds a mailto to List-Unsubscribe.", "alerts"),
    S("SMTP_HOST", "str", "", "The mail relay; empty: mail is written to instance/mailbox/ "
      "(development).", "alerts"),
    S("SMTP_PORT", "str", "", "The relay's port; empty: 587 (465 with tls, 25 with none).",
      "alerts"),
    S("SMTP_SECURITY", "str", "", "starttls, tls or none; empty: by the port.", "alerts",
      choices=("", "starttls", "tls", "none"), case="lower"),
    S("SMTP_USERNAME", "str", "", "The relay's user name, if it wants one.", "alerts"),
    S("SMTP_PASSWORD", "str", "", "The relay's password.", "alerts", secret=True),
    S("SMTP_TIMEOUT", "float", 30.0, "Seconds per network operation with the relay.", "alerts",
      minimum=0),
    S("SMTP_CONNECTIONS", "int", 4, "SMTP connections a batch of mail is sent over at once.",
      "alerts", minimum=1),
    S("SMTP_CA_FILE", "str", "", "A CA bundle for a relay with a private certificate.",
      "alerts"),
    S("WEBHOOK_CONCURRENCY", "int", 32, "Webhook deliveries in flight at once.", "alerts",
      minimum=1),
    S("WEBHOOK_TIMEOUT", "float", 10.0, "Seconds for one webhook delivery, all in.", "alerts",
      minimum=0),
    S("WEBHOOK_ALLOW_PRIVATE", "bool", False, "Webhooks may reach private addresses "
      "(development only).", "alerts"),
    S("WEBHOOK_DISABLE_AFTER_DAYS", "int", 5, "An endpoint failing this long is disabled.",
      "alerts", minimum=1),
    # -- the web app
    S("SECRET_KEY", "str", "", "Signs the links in mail; empty: made once in "
      "instance/secret_key. Changing it breaks every link already sent.", "web", secret=True),
    S("ADMIN_PASSWORD", "str", "", "The admin's password; empty keeps /admin closed.", "web",
      secret=True),
    S("ADMIN_SESSION_MAX_AGE", "float", 7 * 24 * 3600.0, "Seconds an admin login lasts.", "web",
      minimum=0),
    S("ADMIN_LOGIN_LIMIT_ALL", "str", "30 per 10 minutes", "Failed admin logins from all "
      "clients together before every login waits.", "web"),
    S("API_TOKEN", "str", "", "The bearer token of /api/; empty keeps the API closed.", "web",
      secret=True),
    S("METRICS_TOKEN", "str", "", "The bearer token of /metrics; empty: this machine only.",
      "web", secret=True),
    S("SUBSCRIBE_LIMIT", "str", "20 per hour", "Subscription attempts per client and per "
      "address.", "web"),
    S("SEARCH_LIMIT", "str", "30 per minute", "Searches of the archive per client.", "web"),
    S("RULES_SHOWN", "int", 50, "The subscribe and manage pages list at most this many "
      "rules; beyond, a search picks them (was THEMES_SHOWN).", "web", minimum=1),
    S("TRUSTED_PROXIES", "int", 0, "Reverse proxies in front of the web app, whose "
      "X-Forwarded-* is believed.", "web", minimum=0),
    S("MAX_CONTENT_LENGTH", "int", 2 * 1024 * 1024, "Larger requests get 413.", "web",
      minimum=1),
    S("SESSION_COOKIE_SECURE", "bool", False, "The session cookie only over https (on by "
      "itself when BASE_URL is https).", "web"),
    S("DEMO", "bool", False, "The demo's /mailbox/ page (`tracker demo` turns it on).", "web"),
    # -- logs
    S("LOG_LEVEL", "str", "INFO", "The log level.", "logs",
      choices=("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"), case="upper"),
    S("LOG_JSON", "bool", False, "Logs as one JSON object a line.", "logs"),
)

BY_NAME: dict[str, Setting] = {s.name: s for s in SETTINGS}
DEFAULTS: dict[str, Any] = {s.name: s.default for s in SETTINGS}
# Settings renamed in a release: the old name is still read (with a warning) so a deployment's
# config.py or environment keeps working; the new name wins when both are given.
RENAMED: dict[str, str] = {"THEMES_SHOWN": "RULES_SHOWN"}


def checked(values: Mapping[str, Any]) -> dict[str, Any]:
    """`values` with every known setting converted to its type; SettingError on the first
    that cannot be (names that are not settings — Flask's, a test's — pass as they are)."""
    out = dict(values)
    for name, value in values.items():
        if name in BY_NAME:
            out[name] = BY_NAME[name].convert(value)
    return out


def value(config: Mapping[str, Any], name: str) -> Any:
    """One setting from `config`, its default when `config` lacks it (a partial mapping, as
    the domain functions' tests pass), converted to its type."""
    setting = BY_NAME[name]
    return setting.convert(config.get(name, setting.default))


def markdown() -> str:
    """docs/configuration.md: every setting by section, as made by this table."""
    lines = ["# Configuration", "",
             "Made from `tracker/settings.py` by `python -m tracker.settings > "
             "docs/configuration.md`; a test fails when the two differ. Each setting is read "
             "from the defaults below, then the instance folder's `config.py` (a Python file "
             "setting upper-case names without the prefix, e.g. `SMTP_HOST = \"mail.example.cn\"`),"
             " then the environment variable `TRACKER_<NAME>` (JSON values are parsed). A value "
             "that cannot be used stops the start with `TRACKER_<NAME>: expected …, got …`.",
             "", "Outside this table: `TRACKER_INSTANCE` (the instance folder, default "
             "`./instance`) and, for tests and benchmarks, `TRACKER_SEEDS` and `TRACKER_CORPORA`."]
    for section in dict.fromkeys(s.section for s in SETTINGS):
        lines += ["", f"## {section}", "", "| setting | type | default | meaning |",
                  "| --- | --- | --- | --- |"]
        for s in (s for s in SETTINGS if s.section == section):
            default = "(secret)" if s.secret and s.default else s.default
            shown = f"`{default}`" if default not in ("", None) else "(empty)"
            kind = s.kind + (f", one of {', '.join(c or '(empty)' for c in s.choices)}"
                             if s.choices else "") + (f", ≥ {s.minimum:g}"
                                                      if s.minimum is not None else "")
            lines.append(f"| `TRACKER_{s.name}` | {kind} | {shown} | {s.help} |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(markdown())
