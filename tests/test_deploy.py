"""The deployment files (Dockerfile, .dockerignore, docker-compose.yml, docker-compose.prod.yml),
checked without a container engine: every command they run is a real `tracker` command, the ports,
paths and volumes agree with each other and with the image, the health checks are run for real
against a served app and a worker lock, and the production override does what it says once merged
the way compose merges."""

from __future__ import annotations

import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time
import tomllib
from datetime import datetime, timedelta, timezone
from pathlib import Path
from urllib.parse import urlsplit

import click
import pytest
import yaml

from tracker.config import DEFAULTS

ROOT = Path(__file__).resolve().parent.parent
DEV = ROOT / "docker-compose.yml"
PROD = ROOT / "docker-compose.prod.yml"
TRACKER_SERVICES = ("web", "worker")
# What the service needs in its environment, documented in docker-compose.yml.
DOCUMENTED_ENV = ("TRACKER_BASE_URL", "TRACKER_ADMIN_PASSWORD", "TRACKER_SECRET_KEY",
                  "TRACKER_SMTP_HOST", "TRACKER_SMTP_PORT", "TRACKER_SMTP_SECURITY",
                  "TRACKER_MAIL_FROM")
PROD_ENV = {"TRACKER_BASE_URL": "https://tracker.example.org", "TRACKER_ADMIN_PASSWORD": "s3cret",
            "TRACKER_SMTP_HOST": "smtp.example.org", "TRACKER_SMTP_USERNAME": "alerts",
            "TRACKER_SMTP_PASSWORD": "pw", "TRACKER_MAIL_FROM": "政策追踪 <alerts@example.org>"}


# ---- the Dockerfile -------------------------------------------------------------------------------

def dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    joined, buffer = [], ""
    for raw in (ROOT / "Dockerfile").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not buffer):
            continue
        if line.endswith("\\"):
            buffer += line[:-1] + " "
            continue
        joined.append(buffer + line)
        buffer = ""
    assert not buffer, "the Dockerfile ends inside a continued line"
    out = []
    for line in joined:
        word, _, rest = line.partition(" ")
        out.append((word.upper(), rest.strip()))
    return out


def instructions(name: str) -> list[str]:
    return [rest for word, rest in dockerfile() if word == name]


def exec_form(rest: str) -> list[str]:
    assert rest.startswith("["), f"not the exec (JSON) form: {rest}"
    return json.loads(rest)


def image_env() -> dict[str, str]:
    env = {}
    for rest in instructions("ENV"):
        for part in shlex.split(rest):
            key, sep, value = part.partition("=")
            assert sep, f"ENV {rest!r}: use the KEY=value form"
            env[key] = value
    return env


def image_cmd() -> list[str]:
    entrypoints, cmds = instructions("ENTRYPOINT"), instructions("CMD")
    assert len(cmds) == 1 and not entrypoints, "one CMD (a tracker command), no ENTRYPOINT"
    return exec_form(cmds[0])


def image_healthcheck() -> list[str]:
    checks = instructions("HEALTHCHECK")
    assert len(checks) == 1, "one HEALTHCHECK"
    options, sep, command = checks[0].partition("CMD ")
    assert sep and "NONE" not in options
    return exec_form(command)


def copies() -> list[tuple[list[str], list[str], str]]:
    """(flags, sources, destination) of every COPY/ADD."""
    out = []
    for word, rest in dockerfile():
        if word in ("COPY", "ADD"):
            parts = shlex.split(rest)
            flags = [p for p in parts if p.startswith("--")]
            paths = [p for p in parts if not p.startswith("--")]
            out.append((flags, paths[:-1], paths[-1]))
    return out


def dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.strip().startswith("#")]


def _pattern(pattern: str) -> re.Pattern:
    """A .dockerignore pattern (Go filepath.Match plus `**`), anchored at the context root."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def ignored(path: str, patterns: list[str] | None = None) -> bool:
    """Whether the build context leaves `path` out: it or a folder above it matches the last
    matching pattern (a `!pattern` brings it back)."""
    patterns = dockerignore() if patterns is None else patterns
    parts = Path(path).as_posix().strip("/").split("/")
    prefixes = ["/".join(parts[:n]) for n in range(1, len(parts) + 1)]
    result = False
    for pattern in patterns:
        keep = pattern.startswith("!")
        regex = _pattern(pattern.lstrip("!").strip("/"))
        if any(regex.fullmatch(p) for p in prefixes):
            result = not keep
    return result


def test_the_image_is_python_3_11_slim_in_one_stage():
    assert instructions("FROM") == ["python:3.11-slim"]


def test_the_image_runs_as_a_user_it_creates_not_root():
    users = instructions("USER")
    assert users, "no USER: the service would run as root"
    user = users[-1].split(":")[0]
    assert user not in ("root", "0")
    created = " ".join(instructions("RUN"))
    assert re.search(rf"useradd\b[^;&]*\s{re.escape(user)}(\s|$)", created), \
        f"USER {user} is not created with useradd"
    # Everything after the last USER runs as that user: the server must not be started before it.
    words = [w for w, _ in dockerfile()]
    assert words.index("CMD") > len(words) - 1 - words[::-1].index("USER")


def test_the_image_names_the_instance_and_rules_folders():
    env = image_env()
    assert env["TRACKER_INSTANCE"] == "/data/instance"
    assert env["TRACKER_RULES"] == "/data/rules"


def test_the_image_ships_the_starter_rules_where_tracker_rules_points():
    rules = [(src, dest) for flags, srcs, dest in copies() for src in srcs
             if not any(f.startswith("--from") for f in flags) and src.rstrip("/") == "rules"]
    assert rules, "the repository's rules/ is not copied into the image"
    assert [dest.rstrip("/") for _, dest in rules] == [image_env()["TRACKER_RULES"]]
    assert any("--chown=tracker" in " ".join(flags) for flags, srcs, _ in copies()
               if "rules/" in srcs or "rules" in srcs), "the rules must be writable (admin editor)"


def test_every_copy_source_exists_and_is_in_the_build_context():
    seen = []
    for flags, sources, _dest in copies():
        if any(f.startswith("--from") for f in flags):
            continue
        for source in sources:
            path = ROOT / source
            assert path.exists(), f"COPY {source}: not in the repository"
            assert not ignored(source), f"COPY {source}: left out by .dockerignore"
            if path.is_dir():
                files = [f for f in path.rglob("*") if f.is_file()]
                kept = [f for f in files if not ignored(f.relative_to(ROOT).as_posix())]
                assert kept, f"COPY {source}: .dockerignore leaves nothing of it"
            seen.append(source.rstrip("/"))
    # What `pip install .` reads: pyproject.toml, the readme it names, the package.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    for needed in ("pyproject.toml", project["readme"], "tracker"):
        assert needed in seen, f"{needed} is not copied before pip install"


def test_the_package_is_installed_from_the_service_lock_without_test_extras():
    installs = [r for r in instructions("RUN") if re.search(r"\bpip\b.*\binstall\b", r)]
    assert len(installs) == 1
    steps = [shlex.split(step) for step in installs[0].split("&&") if "install" in step]
    pinned, package = steps[0], steps[1]
    assert pinned[-2:] == ["-r", "requirements.lock"], "not the versions make run installs"
    assert "--no-deps" in package and "." in package, "the package is not installed from here"
    for words in steps:
        assert "--no-cache-dir" in words
        assert not any("[" in w or w in ("-e", "--editable") for w in words), words
    copied = " ".join(instructions("COPY"))
    assert "requirements.lock" in copied
    lock = (ROOT / "requirements.lock").read_text(encoding="utf-8")
    assert "pytest" not in lock and "playwright" not in lock  # the service's lock only


def test_the_starter_sources_file_of_the_image_is_valid(tmp_path):
    """The worker exits at once when sources.yaml is missing or wrong: the image makes one."""
    from tracker.sources.catalog import parse_sources_text

    made = [r for r in instructions("RUN") if "/data/instance/sources.yaml" in r]
    assert len(made) == 1, "the image makes no starter sources.yaml"
    printf = made[0].split(">")[0]
    lines = re.findall(r"'((?:[^'\\]|\\.)*)'", printf)
    assert lines[0] == "%s\\n"
    sources, problems = parse_sources_text("\n".join(lines[1:]) + "\n", "sources.yaml")
    assert problems == [] and sources == []
    assert image_env()["TRACKER_INSTANCE"] + "/sources.yaml" in made[0]


def test_the_image_command_is_tracker_serve_on_the_exposed_port():
    path, params = resolve(image_cmd())
    assert path == ["serve"]
    assert params["host"] == "0.0.0.0", "127.0.0.1 inside a container is unreachable from outside"
    assert instructions("EXPOSE") == [str(params["port"])]


def test_the_image_healthcheck_asks_healthz_on_the_served_port():
    url = healthcheck_url(image_healthcheck())
    assert url.hostname == "127.0.0.1" and url.path == "/healthz"
    assert url.port == resolve(image_cmd())[1]["port"]
    assert "curl" not in " ".join(image_healthcheck()) and "wget" not in " ".join(image_healthcheck())


def test_the_image_stops_with_a_signal_the_server_obeys_as_pid_1():
    # PID 1 ignores SIGTERM unless it installs a handler, and waitress installs none.
    assert instructions("STOPSIGNAL") == ["SIGINT"]


def test_dockerignore_keeps_the_venv_instance_data_and_tests_out():
    for path in (".venv/bin/python", "instance/tracker.db", "instance/secret_key",
                 "instance/mailbox/1.eml", "tests/screenshots/subscribe.png", ".git/HEAD",
                 "tracker/__pycache__/config.cpython-311.pyc", "tracker.db", "sub/secret_key"):
        assert ignored(path), f"{path} would be sent to the build"
    for path in ("pyproject.toml", "README.md", "tracker/config.py", "tracker/rules/rule.schema.json",
                 "rules/lvdian.yaml", "sources.example.yaml"):
        assert not ignored(path), f"{path} is needed by the build"


def test_the_dockerignore_matcher_itself():
    assert ignored("a/b/c.db", ["**/*.db"]) and not ignored("a/b/c.dbx", ["**/*.db"])
    assert ignored("tests/x/y", ["tests"]) and not ignored("tests2/y", ["tests"])
    assert not ignored("docs/keep.md", ["docs", "!docs/keep.md"])


# ---- the tracker command --------------------------------------------------------------------------

def resolve(argv: list[str] | str) -> tuple[list[str], dict]:
    """The `tracker` subcommand path and its parsed parameters; click raises on an unknown
    command, an unknown option or a bad value."""
    from tracker.cli import main

    argv = shlex.split(argv) if isinstance(argv, str) else list(argv)
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert argv[0] in scripts and scripts[argv[0]] == "tracker.cli:main", argv
    command, args, path = main, argv[1:], []
    context = click.Context(main, info_name=argv[0])
    while isinstance(command, click.Group):
        assert args, f"{' '.join(argv)}: a group without its subcommand"
        name, command, args = command.resolve_command(context, args)
        path.append(name)
        if isinstance(command, click.Group):
            context = click.Context(command, info_name=name, parent=context)
    context = command.make_context(path[-1], list(args), parent=context)
    return path, context.params


def test_resolve_refuses_what_tracker_would_refuse():
    assert resolve("tracker worker --once") == (["worker"], {"once": True})
    assert resolve("tracker rules check")[0] == ["rules", "check"]
    for wrong in ("tracker serv", "tracker serve --prot 5000", "tracker serve --port http",
                  "tracker worker --twice"):
        with pytest.raises(click.UsageError):
            resolve(wrong)
    with pytest.raises(AssertionError):
        resolve("python -m tracker serve")


def healthcheck_url(command: list[str]):
    urls = re.findall(r"https?://[^'\"\s]+", " ".join(command))
    assert len(urls) == 1, command
    return urlsplit(urls[0])


# ---- compose: loading, interpolation, merging -----------------------------------------------------

class Missing(Exception):
    pass


_VARIABLE = re.compile(r"\$\$|\$\{(\w+)(?:(:?[-?])([^}]*))?\}")


def interpolate(value, env: dict[str, str]):
    """Compose's ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?error}, ${VAR?error}, $$."""
    if isinstance(value, dict):
        return {k: interpolate(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [interpolate(v, env) for v in value]
    if not isinstance(value, str):
        return value

    def one(match: re.Match) -> str:
        if match.group(0) == "$$":
            return "$"
        name, op, arg = match.groups()
        found = env.get(name)
        if op == ":-":
            return found or arg
        if op == "-":
            return arg if found is None else found
        if op in (":?", "?") and (found is None or (op == ":?" and not found)):
            raise Missing(f"{name}: {arg}")
        return found or ""

    return _VARIABLE.sub(one, value)


def _by_key(items: list, key) -> dict:
    return {key(item): item for item in items}


def merge(base, override, key: str = ""):
    """Compose's merge of an override file, for the keys these files use: mappings merge,
    `environment` by variable, `volumes`/`ports` of a service by container path/port, `!reset`-free
    sequences (command, healthcheck.test, profiles) are replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        out = dict(base)
        for k, v in override.items():
            out[k] = merge(base[k], v, k) if k in base else v
        return out
    if isinstance(base, list) and isinstance(override, list) and key in ("volumes", "ports"):
        def target(entry) -> str:  # volumes: source:target[:mode]; ports: [ip:][host:]container
            parts = str(entry).split(":")
            return parts[1] if key == "volumes" and len(parts) > 1 else parts[-1]

        return list({**_by_key(base, target), **_by_key(override, target)}.values())
    return override


def project(*files: Path, env: dict[str, str] | None = None, profiles: tuple = ()) -> dict:
    """The compose model of the files: merged, interpolated, services of inactive profiles left
    out; fails like compose when an active service requires a service that is left out."""
    model: dict = {}
    for file in files:
        loaded = yaml.safe_load(file.read_text(encoding="utf-8"))
        for service in loaded.get("services", {}).values():
            if isinstance(service.get("environment"), list):
                service["environment"] = dict(e.split("=", 1) for e in service["environment"])
        model = merge(model, loaded)
    model = {k: v for k, v in model.items() if not k.startswith("x-")}
    model = interpolate(model, {} if env is None else env)
    services = model["services"]
    active = {name: s for name, s in services.items()
              if not s.get("profiles") or set(s["profiles"]) & set(profiles)}
    for name, service in active.items():
        depends = service.get("depends_on") or {}
        if isinstance(depends, list):
            depends = {d: {"condition": "service_started"} for d in depends}
        for dep, how in depends.items():
            assert dep in services, f"{name} depends on undefined service {dep}"
            assert dep in active or how.get("required") is False, \
                f"{name} requires {dep}, which is not started"
    model["services"] = active
    return model


def test_the_compose_model_helpers_behave_like_compose():
    assert interpolate("${A:-x}/${B-y}/${C}/$$", {"A": "", "B": ""}) == "x///$"
    with pytest.raises(Missing):
        interpolate("${A:?need A}", {"A": ""})
    merged = merge({"environment": {"A": "1", "B": "2"}, "volumes": ["v:/x", "w:/y"], "command": ["a"]},
                   {"environment": {"B": "3"}, "volumes": ["z:/y"], "command": ["b"]})
    assert merged == {"environment": {"A": "1", "B": "3"}, "volumes": ["v:/x", "z:/y"], "command": ["b"]}


def dev() -> dict:
    return project(DEV)


def prod(env: dict[str, str] | None = None) -> dict:
    return project(DEV, PROD, env=PROD_ENV if env is None else env)


def command_of(service: dict) -> list[str]:
    return service.get("command") or image_cmd()


def mounts(service: dict) -> dict[str, str]:
    """container path → source of a service's volumes (short syntax)."""
    out = {}
    for volume in service.get("volumes", []):
        source, target = str(volume).split(":")[:2]
        out[target] = source
    return out


# ---- compose: development ---------------------------------------------------------------------

def test_dev_has_web_worker_and_mailpit():
    assert set(dev()["services"]) == {"web", "worker", "mailpit"}


@pytest.mark.parametrize("file", [DEV, PROD], ids=["dev", "prod"])
def test_every_tracker_service_runs_a_real_tracker_command(file):
    services = dev()["services"] if file == DEV else prod()["services"]
    for name in TRACKER_SERVICES:
        resolve(command_of(services[name]))
    assert resolve(command_of(services["worker"])) == (["worker"], {"once": False}), \
        "the worker runs until stopped (a one-shot cycle would be restarted in a loop)"


def test_web_serves_on_the_port_it_publishes_and_the_image_exposes():
    web = dev()["services"]["web"]
    path, params = resolve(command_of(web))
    assert path == ["serve"] and params["host"] == "0.0.0.0"
    published = [str(p).split(":") for p in web["ports"]]
    assert [p[-1] for p in published] == [str(params["port"])]
    assert instructions("EXPOSE") == [str(params["port"])]


def test_web_healthcheck_asks_healthz_on_the_served_port():
    web = dev()["services"]["web"]
    test = web["healthcheck"]["test"]
    assert test[0] == "CMD"
    url = healthcheck_url(test)
    assert (url.hostname, url.port, url.path) == ("127.0.0.1", resolve(command_of(web))[1]["port"],
                                                 "/healthz")


def test_healthz_is_a_route_of_the_app_and_answers_200(tmp_path):
    from tracker.web import create_app

    app = create_app({"TESTING": True, "INSTANCE_PATH": str(tmp_path / "instance"),
                      "RULES": str(ROOT / "rules")})
    path = healthcheck_url(dev()["services"]["web"]["healthcheck"]["test"]).path
    endpoint, _ = app.url_map.bind("localhost").match(path, "GET")
    assert endpoint == "public.healthz"
    answer = app.test_client().get(path)
    assert answer.status_code == 200 and answer.json["status"] == "ok"


def test_web_and_worker_run_one_image_built_from_this_folder():
    services = dev()["services"]
    web, worker = services["web"], services["worker"]
    assert web["build"] == worker["build"] and web["image"] == worker["image"]
    context = web["build"] if isinstance(web["build"], str) else web["build"].get("context", ".")
    dockerfile_name = "Dockerfile" if isinstance(web["build"], str) else \
        web["build"].get("dockerfile", "Dockerfile")
    assert (DEV.parent / context / dockerfile_name).resolve() == ROOT / "Dockerfile"
    assert "mailpit" not in web["image"]


def test_web_and_worker_share_the_instance_and_rules_volumes_where_the_image_looks():
    model = dev()
    env = image_env()
    web, worker = (mounts(model["services"][name]) for name in TRACKER_SERVICES)
    assert web == worker, "web and worker must see the same instance and rules"
    assert web[env["TRACKER_INSTANCE"]] == "instance"
    assert env["TRACKER_RULES"] in web
    for source in web.values():
        if not source.startswith((".", "/")):
            assert source in (model.get("volumes") or {}), f"volume {source} is not declared"
    for name in TRACKER_SERVICES:  # the compose environment must not move the folders elsewhere
        environment = model["services"][name]["environment"]
        assert environment.get("TRACKER_INSTANCE", env["TRACKER_INSTANCE"]) == env["TRACKER_INSTANCE"]
        assert environment.get("TRACKER_RULES", env["TRACKER_RULES"]) == env["TRACKER_RULES"]


def test_services_restart_and_start_in_a_sensible_order():
    services = dev()["services"]
    for name in (*TRACKER_SERVICES, "mailpit"):
        assert services[name].get("restart") in ("always", "unless-stopped"), name
    worker_deps = services["worker"]["depends_on"]
    assert worker_deps["web"]["condition"] == "service_healthy"
    assert "healthcheck" in services["web"]
    for name, service in services.items():
        for dep, how in (service.get("depends_on") or {}).items():
            assert how["condition"] in ("service_started", "service_healthy",
                                        "service_completed_successfully")
            if how["condition"] == "service_healthy":
                assert "healthcheck" in services[dep], f"{name} waits for {dep}'s health: none"


def known_settings() -> set[str]:
    docs = "\n".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "docs").glob("*.md")))
    documented = set(re.findall(r"`(TRACKER_[A-Z_]+)`", docs))
    # The docs may write `TRACKER_EPAPER_MAX_PAGES`, `_MAX_ARTICLES`: short forms share the row's prefix.
    for row in docs.splitlines():
        names = re.findall(r"`(TRACKER_[A-Z]+_?)[A-Z_]*`", row)
        for short in re.findall(r"`(_[A-Z_]+)`", row):
            documented |= {n + short[1:] if n.endswith("_") else n + short for n in names}
    return documented | {"TRACKER_" + k for k in DEFAULTS}


def test_the_environment_is_complete_and_names_only_real_settings():
    services = dev()["services"]
    web_env, worker_env = (services[name]["environment"] for name in TRACKER_SERVICES)
    assert web_env == worker_env, "web and worker must run with the same configuration"
    for name in DOCUMENTED_ENV:
        assert name in web_env, f"{name} is not set (documented) in docker-compose.yml"
    unknown = set(web_env) - known_settings()
    assert not unknown, f"not settings of tracker: {sorted(unknown)}"


def test_dev_mail_goes_to_mailpit_and_the_settings_load(tmp_path):
    from tracker.alerts.email.send import _settings
    from tracker.alerts.email.compose import parse_address
    from tracker.config import load_config

    services = dev()["services"]
    env = services["web"]["environment"]
    assert env["TRACKER_SMTP_HOST"] == "mailpit"
    mailpit = services["mailpit"]
    assert mailpit["image"].split(":")[0] == "axllent/mailpit"
    targets = {str(p).split(":")[-1] for p in mailpit["ports"]}
    assert {"1025", "8025"} <= targets
    config = load_config(environ={**env, "TRACKER_INSTANCE": str(tmp_path)})
    settings = _settings(config)
    assert (settings.host, settings.port) == ("mailpit", 1025)
    assert str(settings.port) in targets
    assert parse_address(config["MAIL_FROM"], "MAIL_FROM").addr_spec


# ---- compose: production ------------------------------------------------------------------------

def test_prod_documents_its_command():
    text = PROD.read_text(encoding="utf-8")
    assert "docker compose -f docker-compose.yml -f docker-compose.prod.yml up -d" in text


def test_prod_drops_mailpit_and_keeps_web_and_worker():
    services = prod()["services"]
    assert set(services) == {"web", "worker"}
    # What compose would refuse: an active service that requires the left-out mailpit.
    for name, service in services.items():
        for dep, how in (service.get("depends_on") or {}).items():
            assert dep in services or how.get("required") is False, (name, dep)


def test_prod_sends_mail_through_a_real_server(tmp_path):
    from tracker.alerts.email.send import _settings
    from tracker.config import load_config

    services = prod()["services"]
    env = services["web"]["environment"]
    assert env == services["worker"]["environment"]
    assert env["TRACKER_SMTP_HOST"] == PROD_ENV["TRACKER_SMTP_HOST"]
    assert not set(env) - known_settings()
    settings = _settings(load_config(environ={**env, "TRACKER_INSTANCE": str(tmp_path)}))
    assert (settings.host, settings.port, settings.security) == ("smtp.example.org", 587, "starttls")
    assert settings.username == "alerts"


@pytest.mark.parametrize("needed", ["TRACKER_SMTP_HOST", "TRACKER_MAIL_FROM", "TRACKER_BASE_URL",
                                    "TRACKER_ADMIN_PASSWORD"])
def test_prod_refuses_to_start_without_its_real_settings(needed):
    with pytest.raises(Missing):
        prod({k: v for k, v in PROD_ENV.items() if k != needed})


def test_prod_keeps_the_volumes_commands_and_image_of_dev():
    d, p = dev()["services"], prod()["services"]
    for name in TRACKER_SERVICES:
        assert mounts(p[name]) == mounts(d[name])
        assert command_of(p[name]) == command_of(d[name])
        assert p[name]["image"] == d[name]["image"] and p[name]["build"] == d[name]["build"]


# ---- the health checks, run ------------------------------------------------------------------------

@pytest.fixture
def served(tmp_path, monkeypatch):
    """The web app configured by docker-compose.yml's environment, served by waitress on a free
    port; yields that port, then stops."""
    from waitress import create_server

    from tracker.web import create_app

    for key in [k for k in os.environ if k.startswith("TRACKER_")]:
        monkeypatch.delenv(key)
    for key, value in dev()["services"]["web"]["environment"].items():
        monkeypatch.setenv(key, str(value))
    monkeypatch.setenv("TRACKER_INSTANCE", str(tmp_path / "instance"))
    monkeypatch.setenv("TRACKER_RULES", str(ROOT / "rules"))
    server = create_server(create_app(), host="127.0.0.1", port=0, threads=2)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server.effective_port
    server.close()
    server.task_dispatcher.shutdown()
    thread.join(timeout=10)


def run_check(command: list[str], port: int | None = None, env: dict | None = None) -> int:
    """Run a healthcheck's `python -c …` here (the port moved to the test server's)."""
    if command[0] == "CMD":
        command = command[1:]
    assert command[0] == "python" and command[1] == "-c", command
    code = command[2]
    if port is not None:
        code = code.replace(":5000/", f":{port}/")
    return subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          timeout=60).returncode


@pytest.mark.parametrize("where", ["Dockerfile", "docker-compose.yml"])
def test_the_web_healthcheck_passes_against_the_app_and_fails_without_it(served, where):
    command = image_healthcheck() if where == "Dockerfile" else dev()["services"]["web"]["healthcheck"]["test"]
    assert run_check(command, served) == 0
    with socket.socket() as probe:  # a port where nothing listens
        probe.bind(("127.0.0.1", 0))
        free = probe.getsockname()[1]
    assert run_check(command, free) != 0


def test_the_worker_healthcheck_follows_the_worker_process_and_its_heartbeat(tmp_path):
    from tracker.store import connect
    from tracker.store.locks import acquire
    from tracker.worker.service import LOCK

    worker = dev()["services"]["worker"]
    test = worker["healthcheck"]["test"]
    assert test[:2] == ["CMD", "tracker"] and "/healthz" not in " ".join(test)
    check = [sys.executable, "-m", "tracker", *test[2:]]
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRACKER_")}
    env.update({k: str(v) for k, v in worker["environment"].items()})
    env.update(TRACKER_INSTANCE=str(tmp_path / "instance"), TRACKER_RULES=str(ROOT / "rules"),
               TRACKER_SMTP_HOST="")

    def healthy() -> bool:
        return subprocess.run(check, env=env, capture_output=True, timeout=60).returncode == 0

    assert not healthy(), "healthy without a database"
    (tmp_path / "instance").mkdir()
    (tmp_path / "instance" / "sources.yaml").write_text("sources: []\n", encoding="utf-8")
    db = connect(tmp_path / "instance" / "tracker.db")
    assert not healthy(), "healthy without a worker"
    running = subprocess.Popen([sys.executable, "-m", "tracker", "worker"], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not healthy():
            threading.Event().wait(0.2)
        assert healthy(), "a running worker is not healthy"
        running.kill()  # SIGKILL: the lock row and its fresh heartbeat stay behind
        running.wait(timeout=30)
        assert db.execute("SELECT count(*) FROM locks").fetchone()[0] == 1
        done = subprocess.run(check, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode != 0 and "is gone" in done.stdout, "healthy after a SIGKILL"
    finally:
        if running.poll() is None:
            running.kill()
            running.wait(timeout=30)
    db.execute("DELETE FROM locks")
    assert acquire(db, LOCK, f"{socket.gethostname()}:{os.getpid()}") is None  # alive: us
    db.conn.commit()
    assert healthy()
    stale = (datetime.now(timezone.utc) - timedelta(minutes=5)).isoformat()
    db.execute("UPDATE locks SET heartbeat_at = ?", [stale])
    db.conn.commit()
    assert not healthy(), "healthy with a stale heartbeat"


def test_prod_keeps_the_rules_in_a_volume():
    """The admin's editor writes the rules: in production they live in the named volume that
    outlasts the container and the image, and TRACKER_RULES points there."""
    merged = prod()
    for name in ("web", "worker"):
        service = merged["services"][name]
        assert service["environment"]["TRACKER_RULES"] == "/data/rules"
        assert mounts(service)["/data/rules"] == "rules" and "rules" in merged["volumes"]


def test_the_lock_files_hold_every_dependency_of_pyproject():
    """A dependency added to pyproject.toml without `make lock` would install nowhere."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]

    def names(requirements: list[str]) -> set[str]:
        return {re.split(r"[<>=!~\[; ]", r, maxsplit=1)[0].lower().replace("_", "-")
                for r in requirements}

    def locked(name: str) -> set[str]:
        text = (ROOT / name).read_text(encoding="utf-8")
        return {line.split("==")[0].lower().replace("_", "-") for line in text.splitlines()
                if "==" in line and not line.startswith(("#", " "))}

    service = names(project["dependencies"])
    assert service <= locked("requirements.lock"), service - locked("requirements.lock")
    everything = service | names(project["optional-dependencies"]["test"])
    assert everything <= locked("requirements-test.lock")
