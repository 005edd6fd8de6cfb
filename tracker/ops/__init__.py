"""Running tracker in production: online backups (`backup`), logging (`logs`), Prometheus
metrics read from the archive at scrape time (`metrics`, served at GET /metrics).

Beside alerts in the layers: may use store and the helpers below it; never flask.
"""
