from django.contrib import admin

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


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["at", "actor_label", "action", "object_type", "object_id"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


admin.site.register([Organisation, UseCase, AccessRequest, ComiteSession, Habilitation])
admin.site.site_header = "Administration DataDSN"
