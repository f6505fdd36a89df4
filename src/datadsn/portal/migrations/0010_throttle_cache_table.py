"""The database cache table that holds the login failure counters (settings.CACHES["throttle"]),
created by ``migrate`` so that every way of serving the portal has it."""

from typing import Any

from django.core.management import call_command
from django.db import migrations


def create_cache_table(apps: Any, schema_editor: Any) -> None:
    call_command("createcachetable", database=schema_editor.connection.alias, verbosity=0)


class Migration(migrations.Migration):
    dependencies = [("portal", "0009_withdrawn_state")]

    operations = [migrations.RunPython(create_cache_table, migrations.RunPython.noop)]
