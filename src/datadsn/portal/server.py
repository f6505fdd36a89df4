"""Production serving: gunicorn (threaded workers, keep-alive) in front of the Django application,
static files through WhiteNoise, errors logged to stderr. Used by ``datadsn serve`` (``--prod``)."""

from __future__ import annotations

import os
from typing import Any

from gunicorn.app.base import BaseApplication


def default_workers() -> int:
    """One process per core plus one (the GIL makes processes, not threads, use the cores)."""
    return (os.cpu_count() or 1) + 1


class PortalServer(BaseApplication):
    """gunicorn run in process, with the options given here rather than from a config file."""

    def __init__(self, application: Any, options: dict[str, Any]) -> None:
        self.application = application
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        return self.application


def options(host: str, port: int, workers: int, threads: int, access_log: bool) -> dict[str, Any]:
    return {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",  # threads per process, and HTTP keep-alive
        "threads": threads,
        "keepalive": 5,
        "timeout": 60,
        "graceful_timeout": 10,
        "errorlog": "-",  # stderr
        "accesslog": "-" if access_log else None,
        "loglevel": "info",
        "proc_name": "datadsn-portal",
    }


def run(host: str, port: int, workers: int, threads: int, access_log: bool = False) -> None:
    """Collect the static files, then serve the portal until interrupted."""
    from django.core.management import call_command
    from django.core.wsgi import get_wsgi_application
    from django.db import connections

    call_command("collectstatic", interactive=False, verbosity=0)
    application = get_wsgi_application()
    connections.close_all()  # never share the master's database connection with forked workers
    PortalServer(application, options(host, port, workers, threads, access_log)).run()
