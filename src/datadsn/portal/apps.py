from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "datadsn.portal"
    label = "portal"
    verbose_name = "Portail DataDSN"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from . import throttle  # noqa: F401  (connects the login failure counters)
