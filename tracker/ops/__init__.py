"""Running tracker in production: online backups (`backup`), logging (`logs`), Prometheus
metrics read from the archive at scrape time (`metrics`, served at GET /metrics)."""
