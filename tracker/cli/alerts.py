"""Commands for alerts: subscribe, subscriptions, deliver."""

from __future__ import annotations

import click

from tracker.cli.common import EXIT_INPUT, EXIT_RULES
from tracker.config import instance_file
from tracker import settings


def _db(config: dict):
    from tracker.store import connect

    return connect(instance_file(config, "DATABASE"))


@click.command("subscribe")
@click.option("--email", "email", help="An email address.")
@click.option("--webhook", "webhook", help="A webhook URL (Standard Webhooks, signed).")
@click.option("--apprise", "chat", help="A chat-robot URL (dingtalk://, wecombot://, feishu://, …).")
@click.option("--rules", "rules", required=True, help="Rule ids, comma separated.")
@click.option("--frequency", type=click.Choice(["instant", "daily", "weekly"]), default="instant",
              show_default=True)
@click.option("--confirmed", is_flag=True, help="Email: skip the double opt-in (you asked them).")
@click.pass_obj
def subscribe(config: dict, email: str | None, webhook: str | None, chat: str | None, rules: str,
              frequency: str, confirmed: bool) -> None:
    """Subscribe an email address, a webhook or a chat robot to rules (admins and scripts)."""
    from tracker.alerts.subscribe import SubscribeError, subscribe as add
    from tracker.rules import RulesError, load_rules

    given = [(c, a) for c, a in (("email", email), ("webhook", webhook), ("chat", chat)) if a]
    if len(given) != 1:
        raise click.UsageError("give exactly one of --email, --webhook, --apprise")
    (channel, address), = given
    try:
        known = [r.id for r in load_rules(config["RULES"])]
        existed = _existing(config, channel, address)
        found, changed = add(_db(config), config, channel, address, rules.split(","), known,
                             frequency, confirmed=confirmed, admin=True)
    except RulesError as err:
        click.echo(str(err), err=True)
        raise SystemExit(EXIT_RULES) from None
    except SubscribeError as err:
        click.echo(f"tracker: {err.field}: {err}", err=True)
        raise SystemExit(EXIT_INPUT) from None
    state = "subscribed" if existed is None else \
        "already subscribed, updated" if changed else "already subscribed, unchanged"
    click.echo(f"#{found.id} {found.channel} {found.address}: {state} ({found.state}, "
               f"{found.frequency}, rules {', '.join(found.rules)})")
    if found.secret and changed:
        click.echo(f"signing secret (shown once): {found.secret}")
    if found.channel == "email" and found.state == "pending":
        _confirm(config, found.id, found.address, send=existed is None)


def _existing(config: dict, channel: str, address: str):
    """The subscription already kept for this address, if any (before any change)."""
    from tracker.alerts.subscribe import SubscribeError, normalize_email
    from tracker.store.subscriptions import find_subscription

    try:
        address = normalize_email(address) if channel == "email" else address
    except SubscribeError:
        return None  # subscribe() says what is wrong with it
    return find_subscription(_db(config), channel, address)


def _confirm(config: dict, subscription_id: int, address: str, *, send: bool) -> None:
    """The double opt-in mail for a pending email subscription (the web form sends the same)."""
    if not send:
        click.echo(f"waiting for {address} to open the confirmation mail "
                   "(or subscribe again with --confirmed if they asked you)")
        return
    from pathlib import Path

    from tracker.alerts.notices import queue_confirmation, send_notices

    db = _db(config)
    notice = queue_confirmation(db, config, subscription_id, address)
    if notice is None:
        click.echo(f"tracker: confirmation mail to {address} not sent: that mailbox had "
                   f"{config.get('NOTICES_PER_DAY')} such mails in the last 24 hours "
                   "(NOTICES_PER_DAY); try again tomorrow", err=True)
        raise SystemExit(EXIT_INPUT)
    outcome = send_notices(db, config, only=notice)
    days = max(1, int(settings.value(config, "CONFIRM_MAX_AGE")) // 86400)
    if outcome.get("sent"):
        where = "" if settings.value(config, "SMTP_HOST") else \
            f" (kept in {Path(config['INSTANCE_PATH']) / 'mailbox'}: no SMTP host set)"
        click.echo(f"confirmation mail sent to {address}{where}; alerts start once its link is "
                   f"opened (valid {days} days)")
    elif outcome.get("failed"):
        click.echo(f"confirmation mail to {address} not sent yet: queued, the worker retries it "
                   "(see the log for why)", err=True)
    else:
        click.echo(f"tracker: confirmation mail to {address} cannot be sent (see the log)", err=True)
        raise SystemExit(EXIT_INPUT)


@click.command("subscriptions")
@click.pass_obj
def subscriptions(config: dict) -> None:
    """List the subscriptions with their state and last delivery."""
    from tracker.store.deliveries import last_sent
    from tracker.store.subscriptions import list_subscriptions

    db = _db(config)
    last = last_sent(db)
    found = list_subscriptions(db)
    for s in found:
        reason = f" — {s.state_reason}" if s.state_reason else ""
        click.echo(f"#{s.id:<4} {s.channel:<7} {s.state:<12} {s.frequency:<7} "
                   f"{','.join(s.rules):<30} {s.address}  last sent: {last.get(s.id) or '—'}{reason}")
    if not found:
        click.echo("no subscriptions")


@click.command("deliver")
@click.pass_obj
def deliver(config: dict) -> None:
    """Send the alerts that are due now (what the worker does every minute), then exit. Holds
    the worker lock meanwhile: refused (exit 3, naming the holder) while a worker runs."""
    from tracker.worker.service import EXIT_LOCKED, Worker, locked

    service = Worker(config)
    outcome: dict = {}

    def send() -> int:
        outcome.update(service.deliver())
        return 0

    code = locked(service, send)
    if code == EXIT_LOCKED and not outcome:
        click.echo("tracker: a worker is sending alerts now (see above); not sending beside it",
                   err=True)
        raise SystemExit(code)
    click.echo(", ".join(f"{n} {k}" for k, n in sorted(outcome.items())) or "nothing due")
    raise SystemExit(code)
