"""Django set up for the commands that use the portal outside a web server."""

from __future__ import annotations

import os

from datadsn.home import default_home


def setup_django(debug: bool | None = None) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "datadsn.portal.settings")
    if debug is not None:
        os.environ["DATADSN_DEBUG"] = "1" if debug else "0"
    home = default_home()
    home.mkdir(parents=True, exist_ok=True)
    import django

    django.setup()
