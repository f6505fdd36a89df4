from __future__ import annotations

from django.conf import settings
from django.contrib import admin
from django.contrib.staticfiles.views import serve as static_serve
from django.urls import include, path, re_path
from django.views import View

from . import deliveries, oidc, published_views, views
from .api import api

app_name = "portal"

portal_patterns = [
    path("", views.home, name="home"),
    path("cas-usage/", views.usecase_list, name="usecase_list"),
    path("cas-usage/<slug:slug>/", views.usecase_detail, name="usecase_detail"),
    path("documentation/", views.documentation, name="documentation"),
    path("documentation/dictionnaire/", views.dictionary_index, name="dictionary"),
    path(
        "documentation/dictionnaire/<str:block_id>/",
        views.dictionary_block,
        name="dictionary_block",
    ),
    path("documentation/indicateurs/", views.indicators, name="indicators"),
    path("documentation/api/", views.api_documentation, name="api_doc"),
    path("conditions-generales/", views.cgu, name="cgu"),
    path("indicateurs/", published_views.published_list, name="published_list"),
    path("indicateurs/<str:code>/", published_views.published_detail, name="published_detail"),
    path(
        "indicateurs/<str:code>/valeurs.<str:fmt>",
        published_views.published_download,
        name="published_download",
    ),
    path("statistiques/", views.statistics, name="statistics"),
    path("compte/inscription/", views.register, name="register"),
    path("compte/verifier/<str:uidb64>/<str:token>/", views.verify_email, name="verify_email"),
    path("compte/connexion/", views.LoginView.as_view(), name="login"),
    path("compte/deconnexion/", oidc.LogoutView.as_view(), name="logout"),
    path("compte/oidc/connexion/", oidc.start, name="oidc_login"),
    path("compte/oidc/retour/", oidc.callback, name="oidc_callback"),
    path("compte/jeton-api/", views.api_token, name="api_token"),
    path("compte/rattachements/", views.memberships, name="memberships"),
    path("tableau-de-bord/", views.dashboard, name="dashboard"),
    path("demandes/", views.request_list, name="request_list"),
    path("demandes/nouvelle/", views.request_new, name="request_new"),
    path("demandes/<int:pk>/", views.request_detail, name="request_detail"),
    path("demandes/<int:pk>/etape/<int:n>/", views.request_step, name="request_step"),
    path("demandes/<int:pk>/action/<str:action>/", views.request_action, name="request_action"),
    path("demandes/<int:pk>/messages/", views.request_message, name="request_message"),
    path("demandes/<int:pk>/base-legale.pdf", views.request_pdf, name="request_pdf"),
    path("comite/", views.session_list, name="session_list"),
    path("comite/<int:pk>/", views.session_detail, name="session_detail"),
    path("habilitations/", views.habilitation_list, name="habilitation_list"),
    path("habilitations/<int:pk>/", views.habilitation_detail, name="habilitation_detail"),
    path("livraisons/", deliveries.delivery_list, name="delivery_list"),
    path("livraisons/<int:pk>/<str:name>", deliveries.delivery_file, name="delivery_file"),
    path("journal/", views.audit_list, name="audit"),
    path("journal/export.csv", views.audit_export, name="audit_export"),
]

# Django's password views with the portal's forms and French pages.
PASSWORD_PAGES: list[tuple[str, type[View], str]] = [
    ("", views.ChangePasswordView, "password_change"),
    ("modifie/", views.ChangePasswordDoneView, "password_change_done"),
    ("oublie/", views.PasswordForgottenView, "password_reset"),
    ("oublie/envoye/", views.PasswordForgottenDoneView, "password_reset_done"),
    ("nouveau/<str:uidb64>/<str:token>/", views.NewPasswordView, "password_reset_confirm"),
    ("nouveau/enregistre/", views.NewPasswordDoneView, "password_reset_complete"),
]
portal_patterns += [
    path(f"compte/mot-de-passe/{route}", view.as_view(), name=name)
    for route, view, name in PASSWORD_PAGES
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("api/", api.urls),
    path("admin/", admin.site.urls),
]

if settings.SERVE_STATIC:
    # Small deployments serve the DSFR assets themselves; behind a web server, set DATADSN_SERVE_STATIC=0.
    urlpatterns.append(re_path(r"^static/(?P<path>.*)$", static_serve, {"insecure": True}))
