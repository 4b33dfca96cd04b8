"""The exwatch webhook body, schema ``exwatch.notification.v1``.

One POST per notice, ``Content-Type: application/json`` (UTF-8). Times are ISO 8601 in UTC
(``2026-11-21T09:00:00Z``); texts come in both languages as ``{"ja": ..., "en": ...}`` and
are plain strings, never HTML or Markdown: a receiver that shows them escapes them itself.

.. code-block:: text

    schema        "exwatch.notification.v1"
    event_id      integer   the timeline event; the same for every channel and recipient
    delivery_id   integer   this delivery; also the X-Exwatch-Delivery header (idempotency key)
    kind          string    incident_opened, update_posted, severity_changed, incident_resolved,
                            acknowledged, maintenance_announced, maintenance_started,
                            maintenance_completed, page, reminder
    at            string    when the event happened
    site          {name, url}
    incident      null or {id, title {ja, en}, severity, status, severity_reason,
                           components [{id, name {ja, en}}], url, started_at,
                           resolved_at (null while open), acknowledged_by (null or a name)}
    maintenance   null or {id, title {ja, en}, status, starts_at, ends_at, components, url}
    update        null or {status (null or investigating, identified, monitoring, resolved),
                           body {ja, en}}; for page and reminder the body is the page's reason
    links         {} or {ack_url}: pages carry a signed, expiring acknowledge link
    data          {string: string or integer}: details of the event, e.g. the page level or
                  the old severity

Receivers should ignore fields and kinds they do not know: later v1 senders may add them.
Changing or removing a field makes a new schema name. ``WEBHOOK_SCHEMA_V1`` is the same
description as a JSON Schema (draft 2020-12).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, get_args

from monitor.config.notifications import NoticeKind
from monitor.notices import ComponentRef, IncidentInfo, MaintenanceInfo, Notice, Text
from notifiers.channel import Delivery

SCHEMA_NAME = "exwatch.notification.v1"

JsonObject = dict[str, Any]


def iso(moment: datetime) -> str:
    """Return ``moment`` as ISO 8601 in UTC with a ``Z`` (a naive time is taken as UTC)."""
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _text(text: Text) -> JsonObject:
    return {"ja": text.ja, "en": text.en}


def _components(components: tuple[ComponentRef, ...]) -> list[JsonObject]:
    return [{"id": c.id, "name": _text(c.names)} for c in components]


def _incident(incident: IncidentInfo) -> JsonObject:
    return {
        "id": incident.id,
        "title": _text(incident.title),
        "severity": incident.severity,
        "status": incident.status,
        "severity_reason": incident.severity_reason,
        "components": _components(incident.components),
        "url": incident.url,
        "started_at": iso(incident.started_at),
        "resolved_at": None if incident.resolved_at is None else iso(incident.resolved_at),
        "acknowledged_by": incident.acknowledged_by,
    }


def _maintenance(maintenance: MaintenanceInfo) -> JsonObject:
    return {
        "id": maintenance.id,
        "title": _text(maintenance.title),
        "status": maintenance.status,
        "starts_at": iso(maintenance.starts_at),
        "ends_at": iso(maintenance.ends_at),
        "components": _components(maintenance.components),
        "url": maintenance.url,
    }


def _update(notice: Notice) -> JsonObject | None:
    """The update's status and text, or None when the notice carries neither."""
    if notice.update_status is None and not (notice.body.ja or notice.body.en):
        return None
    return {"status": notice.update_status, "body": _text(notice.body)}


def exwatch_payload(delivery: Delivery) -> JsonObject:
    """Return the ``exwatch.notification.v1`` document for ``delivery``."""
    notice = delivery.notice
    links = {} if delivery.links.ack_url is None else {"ack_url": delivery.links.ack_url}
    return {
        "schema": SCHEMA_NAME,
        "event_id": notice.event_id,
        "delivery_id": delivery.id,
        "kind": notice.kind,
        "at": iso(notice.at),
        "site": {"name": notice.site_name, "url": notice.site_url},
        "incident": None if notice.incident is None else _incident(notice.incident),
        "maintenance": None if notice.maintenance is None else _maintenance(notice.maintenance),
        "update": _update(notice),
        "links": links,
        "data": dict(notice.data),
    }


def _object(properties: JsonObject, required: tuple[str, ...] | None = None) -> JsonObject:
    """A JSON Schema object; every property is required unless ``required`` says otherwise."""
    names = list(properties) if required is None else list(required)
    return {"type": "object", "properties": properties, "required": names}


def _nullable(schema: JsonObject) -> JsonObject:
    return {"anyOf": [schema, {"type": "null"}]}


_STRING: JsonObject = {"type": "string"}
_INTEGER: JsonObject = {"type": "integer"}
_TIME: JsonObject = {"type": "string", "format": "date-time"}
_TEXT: JsonObject = {"$ref": "#/$defs/text"}
_COMPONENTS: JsonObject = {"type": "array", "items": {"$ref": "#/$defs/component"}}

WEBHOOK_SCHEMA_V1: JsonObject = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": "https://exwatch.dev/schemas/exwatch.notification.v1.json",
    "title": SCHEMA_NAME,
    **_object(
        {
            "schema": {"const": SCHEMA_NAME},
            "event_id": _INTEGER,
            "delivery_id": _INTEGER,
            "kind": {"type": "string", "enum": list(get_args(NoticeKind))},
            "at": _TIME,
            "site": _object({"name": _STRING, "url": _STRING}),
            "incident": _nullable({"$ref": "#/$defs/incident"}),
            "maintenance": _nullable({"$ref": "#/$defs/maintenance"}),
            "update": _nullable(_object({"status": {"type": ["string", "null"]}, "body": _TEXT})),
            "links": _object({"ack_url": _STRING}, required=()),
            "data": {"type": "object", "additionalProperties": {"type": ["string", "integer"]}},
        }
    ),
    "$defs": {
        "text": _object({"ja": _STRING, "en": _STRING}),
        "component": _object({"id": _STRING, "name": _TEXT}),
        "incident": _object(
            {
                "id": _INTEGER,
                "title": _TEXT,
                "severity": _STRING,
                "status": _STRING,
                "severity_reason": _STRING,
                "components": _COMPONENTS,
                "url": _STRING,
                "started_at": _TIME,
                "resolved_at": _nullable(_TIME),
                "acknowledged_by": {"type": ["string", "null"]},
            }
        ),
        "maintenance": _object(
            {
                "id": _INTEGER,
                "title": _TEXT,
                "status": _STRING,
                "starts_at": _TIME,
                "ends_at": _TIME,
                "components": _COMPONENTS,
                "url": _STRING,
            }
        ),
    },
}
"""The v1 body as a JSON Schema; ``exwatch_payload`` documents always validate against it."""
