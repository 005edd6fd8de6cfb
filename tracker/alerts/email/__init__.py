"""Email, one of the alert channels, all of it: `compose` (one alert → one mail, its template in
`templates/`), `wire` (the policy, folding, the bytes and the last header check), `send` (SMTP
through a small pool of connections, `pool` and `relay`, or the development mailbox when no
relay is configured), `mailbox` (that folder of .eml files) and `notices` (mail that is not an
alert: the confirmation request, the manage-link reminder, the request to confirm coming back).

May use the shared alert parts (`tracker.alerts.model`, `lines`, `links`) and the layers below
alerts; never another channel, never flask.
"""
