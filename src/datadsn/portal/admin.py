"""Django admin: accounts, organisations and use cases are edited here; requests, séances,
habilitations and the journal are only read (their states change through ``services``)."""

from typing import Any

from django.contrib import admin
from django.http import HttpRequest

from .forms import AdminLoginForm
from .models import AccessRequest, ComiteSession, Event, Habilitation, Organisation, UseCase, User


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    list_display = [
        "email",
        "role",
        "organisation",
        "organisation_confirmed",
        "email_verified",
        "is_active",
    ]
    list_filter = ["role", "organisation_confirmed", "is_active"]
    search_fields = ["email", "last_name"]
    exclude = ["password"]
    # A membership is confirmed only through a verification path (services.confirm_by_domain,
    # services.confirm_membership on /compte/rattachements/), which the journal records.
    # The ProConnect identity is bound by the first login only: rebinding it here would hand
    # an account to another agent.
    readonly_fields = [
        "organisation_confirmed",
        "organisation_verification",
        "organisation_verified_by",
        "oidc_issuer",
        "oidc_subject",
    ]


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable, never added, changed nor deleted from the admin."""

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Event)
class EventAdmin(ReadOnlyAdmin):
    list_display = ["pk", "at", "actor_label", "action", "object_type", "object_id", "hash"]


@admin.register(AccessRequest)
class AccessRequestAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "organisation", "state", "submitted_at", "decided_at"]
    list_filter = ["state"]


@admin.register(Habilitation)
class HabilitationAdmin(ReadOnlyAdmin):
    list_display = ["reference", "organisation", "status", "start_date", "end_date"]


@admin.register(ComiteSession)
class ComiteSessionAdmin(ReadOnlyAdmin):
    list_display = ["title", "date", "quorum", "status"]


admin.site.register([Organisation, UseCase])
admin.site.site_header = "Administration DataDSN"
admin.site.login_form = AdminLoginForm
