"""Alerts: hits turned into messages people act on, delivered once as far as they can tell.

hits → outbox (one row per subscription × article × rule, written with the hit) → deliveries
(the due rows of one subscription grouped into one message) → a sender per channel, one package
each: `email/` (composing, the wire format, sending, the confirmation and reminder mails'
texts), `webhook/`, `chat/` (Apprise); no channel imports another. Shared here: `deliver` (outbox,
grouping, retry schedule, attempts recorded), `model` (Alert, SendResult), `lines` (what every
channel says of an item: paper, date, page, the story's other copies, safe links), `subscribe`,
`links` (signed tokens), `notices` (the queue of confirmation and reminder mail) and `rejoin`
(coming back after leaving).

May use store, matching, rules, sources (the fetcher's address check and settings), config and
the helpers below them; never worker, web, cli or flask (checked by `make lint`).
"""
