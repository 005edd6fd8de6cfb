"""Alerts: hits turned into messages people act on, delivered once as far as they can tell.

hits → outbox (one row per subscription × article × rule, written with the hit) → deliveries
(the due rows of one subscription grouped into one message) → a sender per channel, one package
each: `email/`, `webhook/`, `chat/` (Apprise). Shared here: `deliver` (outbox, grouping, retry
schedule, attempts recorded), `model` (Alert, SendResult), `subscribe`, `links` (signed tokens),
`email_compose` and `email_wire` (the mail and its bytes), `notices` and `reminder` (confirmation
and reminder mail).

May use store, matching, rules, sources (the fetcher's address check and settings), config and
the helpers below them; never worker, web, cli or flask (checked by `make lint`).
"""
