"""Alerts: hits turned into messages people act on, delivered once as far as they can tell.

hits → outbox (one row per subscription × article × rule, written with the hit) → deliveries
(the due rows of one subscription grouped into one message) → a sender per channel:
email (`tracker.alerts.email`), webhooks (`tracker.alerts.webhook`), chat robots through Apprise
(`tracker.alerts.chat`). Each attempt is recorded; failures are retried on a schedule.
"""
