from django.apps import AppConfig


class PortalConfig(AppConfig):
    name = "datadsn.portal"
    label = "portal"
    verbose_name = "Portail DataDSN"
    default_auto_field = "django.db.models.BigAutoField"
