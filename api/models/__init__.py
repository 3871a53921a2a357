"""SQLAlchemy models; importing this package registers every table."""

from api.models.link import Link
from api.models.page import Page
from api.models.revision import PageRevision, SectionRevision
from api.models.section import Section
from api.models.token import Token
from api.models.webhook import Webhook, WebhookDelivery, WebhookEvent

__all__ = [
    "Link",
    "Page",
    "PageRevision",
    "Section",
    "SectionRevision",
    "Token",
    "Webhook",
    "WebhookDelivery",
    "WebhookEvent",
]
