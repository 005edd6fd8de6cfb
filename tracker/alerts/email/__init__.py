"""Email, one of the alert channels: `send` (SMTP through a small pool of connections, or the
development mailbox when no relay is configured), `mailbox` (that folder of .eml files) and
`notice` (a short plain mail that is not an alert: confirmation requests, manage links).

The mail itself is composed in `tracker.alerts.email.compose`. May use the shared alert parts
(`tracker.alerts.model`) and the layers below alerts; never flask.
"""
