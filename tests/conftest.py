"""Shared fixtures. The seed pages are real newspaper text we do not own: tests read them from
`TRACKER_SEEDS` (default `../shared/seeds` next to the repository) and build every variant
(other encodings, HTML, PDF) at test time; their text is never copied into the repository."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable, Iterator

import pytest

from loopback import Site, serve
from smtp_loopback import LoopbackController, Recorder, Server


@pytest.fixture(scope="session", autouse=True)
def user_cache(tmp_path_factory) -> Iterator[Path]:
    """The user's cache folder (tracker.config.cache_folder) of every test and of the commands
    they start: a fresh one, never the real ~/.cache/tracker."""
    folder = tmp_path_factory.mktemp("xdg-cache")
    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(folder)
    yield folder
    if saved is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = saved


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The folder of seed pages (`*.txt`, UTF-8)."""
    folder = Path(os.environ.get("TRACKER_SEEDS") or Path(__file__).parents[2] / "shared" / "seeds")
    if not sorted(folder.glob("*.txt")):
        pytest.skip(f"no seed pages (*.txt) in {folder}: these tests read real newspaper pages we "
                    "do not own; put them in ../shared/seeds or set TRACKER_SEEDS to their folder")
    return folder


@pytest.fixture(scope="session")
def seed_texts(seeds_dir: Path) -> dict[str, str]:
    """Seed page text by file name, in file-name order."""
    return {path.name: path.read_text(encoding="utf-8") for path in sorted(seeds_dir.glob("*.txt"))}


@pytest.fixture
def site(monkeypatch) -> Iterator[Site]:
    """A real HTTP server on 127.0.0.1 (no proxy in the way); see tests/loopback.py."""
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "http_proxy", "https_proxy", "all_proxy"):
        monkeypatch.delenv(name, raising=False)
    with serve() as state:
        yield state


@pytest.fixture
def smtp_server(tmp_path) -> Iterator[Callable[..., Server]]:
    """Starts aiosmtpd servers on loopback: smtp_server(**SMTP kwargs) -> Server; stops them all."""
    controllers = []

    def start(**kwargs) -> Server:
        recorder = Recorder()
        controller = LoopbackController(recorder, hostname="127.0.0.1", port=0, ready_timeout=10,
                                        authenticator=recorder.authenticate, **kwargs)
        controller.start()
        controllers.append(controller)
        recorder.connections = 0  # the controller's own wake-up connection
        config = {"SMTP_HOST": "127.0.0.1", "SMTP_PORT": controller.port, "SMTP_SECURITY": "none",
                  "SMTP_TIMEOUT": 5, "INSTANCE_PATH": str(tmp_path / "instance")}
        return Server(recorder, controller.port, config)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp(smtp_server) -> Server:
    return smtp_server(auth_require_tls=False)


REPO_RULES = Path(__file__).resolve().parents[1] / "rules"


@pytest.fixture(scope="session")
def archive_template(tmp_path_factory) -> Path:
    """An empty archive brought up to date by the migrations, once per test process."""
    from tracker.store.db import migrate

    path = tmp_path_factory.mktemp("archive-template") / "tracker.db"
    migrate(path)
    return path


@pytest.fixture
def fresh_archive(archive_template: Path) -> Callable[[Path], Path]:
    """fresh_archive(path) puts a copy of the migrated empty archive at `path` (unless one is
    there) and returns it: what `migrate` would make there, without running every migration
    again for each test (the migrations themselves are tested from nothing in test_store and by
    every command test)."""
    import shutil

    def make(path: Path) -> Path:
        if not path.exists():  # as `migrate` would: an archive already there is kept
            path.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(archive_template, path)
        return path

    return make


@pytest.fixture
def instance(tmp_path: Path) -> Path:
    """An empty instance folder (what `TRACKER_INSTANCE` names) for a test's commands."""
    folder = tmp_path / "instance"
    folder.mkdir()
    return folder


@pytest.fixture
def app(tmp_path, fresh_archive):
    """The web app on a temporary instance (its own SQLite file), the starter rules, CSRF on."""
    from tracker.web import create_app

    fresh_archive(tmp_path / "instance" / "tracker.db")
    return create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                       "RULES": str(REPO_RULES), "ADMIN_PASSWORD": "correct horse",
                       "API_TOKEN": "t0ken", "BASE_URL": "https://tracker.example.org",
                       "SUBSCRIBE_LIMIT": "1000 per hour"})


@pytest.fixture
def client(app):
    return app.test_client()


def csrf_token(client, url: str) -> str:
    """The CSRF token of the form at `url`, as a browser would send it back."""
    import re

    page = client.get(url).get_data(as_text=True)
    match = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page)
    assert match, f"no csrf_token in {url}"
    return match.group(1)


@pytest.fixture
def live_server(app):
    """The app served by a real HTTP server on 127.0.0.1 (a thread), for the browser."""
    import threading

    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser():
    """Debian's chromium, headless, driven by Playwright; skipped (saying why) when absent.
    Per module: Playwright's sync API keeps an event loop marked running in this thread until it
    stops, and later tests must be free to start their own."""
    import shutil

    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if not path:
        pytest.skip("no chromium on this machine (apt-get install chromium)")
    sync_api = pytest.importorskip("playwright.sync_api")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=path, headless=True,
            args=["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"])
        yield chromium
        chromium.close()


SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"  # git ignores it
