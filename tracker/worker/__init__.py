"""The worker: every configured source fetched on its schedule, new articles matched and kept.

    tracker worker          # APScheduler, each source on its own cron schedule, until SIGTERM
    tracker worker --once   # one full cycle now, then exit (cron, backfills, tests)

Only this process schedules work — never the web server, where a reloader or several WSGI
workers would run every job twice — and a lock in the database keeps a second worker out.
May use alerts, store, matching, rules, articles, sources and the helpers below; never web,
cli or flask.
"""
