"""Coming back after leaving. An email subscription that was unsubscribed (or disabled after its
deliveries kept failing) is asked for again on the subscribe form: nothing changes then — a
stranger may have typed the address, and the page they see is the one every address gets — but
its owner gets a confirmation mail, in Chinese (its words: tracker.alerts.email.notices).
Confirming it (a POST on the confirm page) makes the subscription active again with the rules,
frequency and own keywords of that form, and the recent hits come first (`welcome`), as for a
new subscriber.

The form's choices are kept with the notice that carries them (`notices.request`); the link
names the subscription and the notice, signed and expiring like any confirmation. A link is good
for the absence it was made in: once the subscription came back (or left again) after it was
made, it changes nothing more.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlite_utils import Database

from tracker.alerts.links import CONFIRM, read_pair
from tracker.store import transaction
from tracker.store.notices import get_notice
from tracker.store.personal import set_keywords
from tracker.store.subscriptions import (FREQUENCIES, Subscription, get_subscription, set_state,
                                         state_changed_at, update_subscription)

RETURNABLE = ("unsubscribed", "disabled")  # states a subscriber comes back from by confirming


@dataclass(frozen=True)
class Request:
    """What the form asked for: rule ids, frequency, own keywords."""

    rules: tuple[str, ...]
    frequency: str
    keywords: tuple[str, ...] = ()

    def to_json(self) -> str:
        return json.dumps({"rules": list(self.rules), "frequency": self.frequency,
                           "keywords": list(self.keywords)}, ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str | None) -> Request | None:
        """The request a notice keeps, or None when it holds none that can be applied."""
        try:
            data = json.loads(text or "")
            request = cls(tuple(map(str, data["rules"])), str(data["frequency"]),
                          tuple(map(str, data.get("keywords") or ())))
        except (ValueError, KeyError, TypeError):
            return None
        return request if request.rules and request.frequency in FREQUENCIES else None


def queue_rejoin(db: Database, config: Mapping[str, Any], subscription: Subscription,
                 request: Request) -> int | None:
    """Queue the confirmation mail to come back; the notice's id, or None when the mailbox had
    its notices for the day (NOTICES_PER_DAY, counted with every other notice)."""
    from tracker.alerts.notices import queue_notice

    return queue_notice(db, config, "rejoin", subscription.id, subscription.address,
                        request=request.to_json())


@dataclass(frozen=True)
class Return:
    """What a link to come back stands for now: its subscription and the request to apply
    (None when the subscription is back already: the link was used, or it came back another
    way)."""

    subscription: Subscription
    request: Request | None


def read_return(db: Database, config: Mapping[str, Any], token: str,
                max_age: int | None) -> Return | None:
    """The return a confirmation link asks for; None when the link is not one, expired, or made
    for an earlier absence (the subscription came back and left again since)."""
    pair = read_pair(config, CONFIRM, token, max_age)
    if pair is None:
        return None
    subscription, notice = get_subscription(db, pair[0]), get_notice(db, pair[1])
    if subscription is None or notice is None or notice.kind != "rejoin" or \
            notice.subscription_id != subscription.id:
        return None
    since = state_changed_at(db, subscription.id) or ""
    if subscription.state in RETURNABLE:
        request = Request.from_json(notice.request)
        return Return(subscription, request) if request and since <= (notice.created_at or "") \
            else None
    return Return(subscription, None) if subscription.state == "active" else None


def come_back(db: Database, config: Mapping[str, Any], subscription_id: int, request: Request,
              known_rules: Sequence[str]) -> bool:
    """Make the subscription active again as `request` asks (its rules that still exist);
    whether it was. The recent hits come first (`welcome`). One transaction."""
    from tracker.alerts.subscribe import welcome

    rules = [rule for rule in request.rules if rule in known_rules]
    if not rules:
        return False
    with transaction(db):
        update_subscription(db, subscription_id, rules, request.frequency)
        set_keywords(db, subscription_id, list(request.keywords))
        set_state(db, subscription_id, "active")
        welcome(db, config, subscription_id)
    return True
