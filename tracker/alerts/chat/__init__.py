"""Chat robots, one of the alert channels, through Apprise URLs: `send` (check a URL, render the
markdown, send) and `target` (the address check for the host an Apprise URL names).

May use the shared alert parts (`tracker.alerts.model`), the address check
(`tracker.sources.ssrf`) and the layers below alerts; never flask.
"""
