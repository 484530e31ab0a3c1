"""DEBUG-only URLs (``/dev/boite-mail/``), included by ``alphalink/urls.py`` when ``settings.DEBUG``."""

from django.urls import path

from . import dev_views

app_name = "devmail"

urlpatterns = [
    path("", dev_views.mailbox_index, name="index"),
    path("<str:key>/", dev_views.mailbox_message, name="message"),
    path("<str:key>/html/", dev_views.mailbox_message_html, name="html"),
]
