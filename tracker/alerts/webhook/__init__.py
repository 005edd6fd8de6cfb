"""Webhooks, one of the alert channels: `sign` (subscriber secrets and Standard Webhooks
signatures) and `send` (one signed JSON POST per alert, concurrently, with aiohttp).

May use the shared alert parts (`tracker.alerts.model`), the address check
(`tracker.sources.ssrf`) and the layers below alerts; never flask.
"""
