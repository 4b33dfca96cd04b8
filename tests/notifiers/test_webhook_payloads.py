"""The webhook bodies: the exwatch v1 document against its schema, and the Slack blocks."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from monitor.notices import ComponentRef, IncidentInfo, Kind, MaintenanceInfo, Notice, Text
from notifiers.channel import Delivery, Links, Recipient
from notifiers.webhook import WEBHOOK_SCHEMA_V1, encode, exwatch_payload, slack_payload

AT = datetime(2026, 11, 21, 9, 0, tzinfo=UTC)
XSS = '<script>alert("x")</script> & <!channel> **bold** [link](http://evil.example)'
TRADING = ComponentRef("btc-trading", Text("BTC取引", "BTC trading"))
API = ComponentRef("api", Text("API", "API"))


def make_incident(**changes: Any) -> IncidentInfo:
    incident = IncidentInfo(
        id=42,
        title=Text("BTC取引の大規模障害", "BTC trading: major outage"),
        severity="critical",
        status="investigating",
        severity_reason="trading impact class at major_outage",
        components=(TRADING, API),
        url="https://status.example.com/incidents/42",
        started_at=AT - timedelta(minutes=3),
    )
    return replace(incident, **changes)


def make_maintenance() -> MaintenanceInfo:
    return MaintenanceInfo(
        id=7,
        title=Text("定期メンテナンス", "Scheduled maintenance"),
        status="scheduled",
        starts_at=AT + timedelta(days=1),
        ends_at=AT + timedelta(days=1, hours=2),
        components=(API,),
        url="https://status.example.com/maintenance/7",
    )


def make_notice(kind: Kind = "incident_opened", **changes: Any) -> Notice:
    notice = Notice(
        event_id=1001,
        kind="incident_opened",
        at=AT,
        body=Text("調査しています。", "We are investigating."),
        site_name="Example Exchange",
        site_url="https://status.example.com",
        incident=make_incident(),
        update_status="investigating",
    )
    return replace(notice, kind=kind, **changes)


def make_delivery(
    notice: Notice | None = None, *, webhook: str = "ops", **changes: Any
) -> Delivery:
    delivery = Delivery(
        id=5001,
        channel="webhook",
        recipient=Recipient(key=f"webhook:{webhook}", address=webhook, language=None),
        notice=notice or make_notice(),
        attempt=1,
    )
    return replace(delivery, **changes)


def make_page() -> Delivery:
    """A page to a responder's webhook, with its signed acknowledge link."""
    notice = make_notice(
        "page",
        body=Text("重大障害のため呼び出しています", "Paging: critical incident"),
        update_status=None,
        data={"level": 1},
    )
    return make_delivery(notice, links=Links(ack_url="https://status.example.com/ack/abc?sig=1"))


# A check of documents against WEBHOOK_SCHEMA_V1 for the keywords it uses (no jsonschema).
# Stricter than JSON Schema on purpose: a key the schema does not list is an error, so the
# schema documents everything that is sent.

JSON_TYPES: dict[str, Any] = {"object": dict, "array": list, "string": str, "null": type(None)}


def _type_ok(value: Any, name: str) -> bool:
    if name == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    return isinstance(value, JSON_TYPES[name])


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    ref = schema.get("$ref")
    return schema if ref is None else WEBHOOK_SCHEMA_V1["$defs"][ref.removeprefix("#/$defs/")]


def schema_errors(value: Any, schema: dict[str, Any], path: str = "$") -> list[str]:
    """Every way ``value`` breaks ``schema``, as ``path: problem`` lines."""
    schema = _resolve(schema)
    if "anyOf" in schema:
        options = [schema_errors(value, option, path) for option in schema["anyOf"]]
        return [] if any(not o for o in options) else [f"{path}: matches no option: {options}"]
    return _scalar_errors(value, schema, path) or _nested_errors(value, schema, path)


def _scalar_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if "const" in schema and value != schema["const"]:
        return [f"{path}: {value!r} is not {schema['const']!r}"]
    if "enum" in schema and value not in schema["enum"]:
        return [f"{path}: {value!r} not one of the enum"]
    types = schema.get("type")
    names = [types] if isinstance(types, str) else types or []
    if names and not any(_type_ok(value, name) for name in names):
        return [f"{path}: {value!r} is not {names}"]
    return []


def _nested_errors(value: Any, schema: dict[str, Any], path: str) -> list[str]:
    if schema.get("format") == "date-time":
        return _time_errors(value, path)
    if isinstance(value, dict):
        return _object_errors(value, schema, path)
    if isinstance(value, list) and "items" in schema:
        items = schema["items"]
        return [
            e for i, item in enumerate(value) for e in schema_errors(item, items, f"{path}[{i}]")
        ]
    return []


def _time_errors(value: str, path: str) -> list[str]:
    if not value.endswith("Z") or datetime.fromisoformat(value).utcoffset() != timedelta(0):
        return [f"{path}: {value!r} is not UTC with a Z"]
    return []


def _object_errors(value: dict[str, Any], schema: dict[str, Any], path: str) -> list[str]:
    properties = schema.get("properties", {})
    errors = [f"{path}: missing {key}" for key in schema.get("required", []) if key not in value]
    for key, item in value.items():
        sub = properties.get(key, schema.get("additionalProperties"))
        if sub is None:
            errors.append(f"{path}: unexpected key {key}")
        else:
            errors += schema_errors(item, sub, f"{path}.{key}")
    return errors


def test_incident_document_matches_the_schema() -> None:
    document = exwatch_payload(make_delivery())
    assert schema_errors(document, WEBHOOK_SCHEMA_V1) == []
    assert document["schema"] == "exwatch.notification.v1"
    assert (document["event_id"], document["delivery_id"], document["kind"]) == (
        1001,
        5001,
        "incident_opened",
    )
    assert document["at"] == "2026-11-21T09:00:00Z"
    assert document["site"] == {"name": "Example Exchange", "url": "https://status.example.com"}
    incident = document["incident"]
    assert incident["title"] == {"ja": "BTC取引の大規模障害", "en": "BTC trading: major outage"}
    assert incident["components"][0] == {
        "id": "btc-trading",
        "name": {"ja": "BTC取引", "en": "BTC trading"},
    }
    assert (incident["resolved_at"], incident["acknowledged_by"]) == (None, None)
    assert document["update"] == {
        "status": "investigating",
        "body": {"ja": "調査しています。", "en": "We are investigating."},
    }
    assert (document["maintenance"], document["links"], document["data"]) == (None, {}, {})


def test_resolved_incident_has_its_resolution_time_and_responder() -> None:
    incident = make_incident(status="resolved", resolved_at=AT, acknowledged_by="sato")
    notice = make_notice("incident_resolved", incident=incident, update_status="resolved")
    document = exwatch_payload(make_delivery(notice))
    assert schema_errors(document, WEBHOOK_SCHEMA_V1) == []
    assert document["incident"]["resolved_at"] == "2026-11-21T09:00:00Z"
    assert document["incident"]["acknowledged_by"] == "sato"


def test_page_carries_severity_reason_components_and_the_ack_link() -> None:
    document = exwatch_payload(make_page())
    assert schema_errors(document, WEBHOOK_SCHEMA_V1) == []
    assert document["kind"] == "page"
    assert document["incident"]["severity"] == "critical"
    assert document["incident"]["severity_reason"] == "trading impact class at major_outage"
    assert [c["id"] for c in document["incident"]["components"]] == ["btc-trading", "api"]
    assert document["update"] == {
        "status": None,
        "body": {"ja": "重大障害のため呼び出しています", "en": "Paging: critical incident"},
    }
    assert document["links"] == {"ack_url": "https://status.example.com/ack/abc?sig=1"}
    assert document["data"] == {"level": 1}


def test_maintenance_document_matches_the_schema() -> None:
    notice = make_notice(
        "maintenance_announced", incident=None, maintenance=make_maintenance(),
        body=Text("", ""), update_status=None,
    )  # fmt: skip
    document = exwatch_payload(make_delivery(notice))
    assert schema_errors(document, WEBHOOK_SCHEMA_V1) == []
    assert document["incident"] is None and document["update"] is None
    assert document["maintenance"]["starts_at"] == "2026-11-22T09:00:00Z"
    assert document["maintenance"]["components"] == [
        {"id": "api", "name": {"ja": "API", "en": "API"}}
    ]


def test_times_are_given_in_utc_whatever_zone_they_come_in() -> None:
    tokyo = timezone(timedelta(hours=9))
    notice = make_notice(at=datetime(2026, 11, 21, 18, 0, 0, 250000, tzinfo=tokyo))
    assert exwatch_payload(make_delivery(notice))["at"] == "2026-11-21T09:00:00.250000Z"


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (lambda d: d.pop("delivery_id"), "missing delivery_id"),
        (lambda d: d.update(event_id="1001"), "'1001' is not ['integer']"),
        (lambda d: d["incident"].update(extra=1), "unexpected key extra"),
        (lambda d: d.update(at="2026-11-21T18:00:00+09:00"), "is not UTC"),
        (lambda d: d["incident"]["components"][0]["name"].pop("ja"), "missing ja"),
        (lambda d: d.update(schema="exwatch.notification.v2"), "is not 'exwatch.notification.v1'"),
    ],
)
def test_the_schema_check_catches_drift(change: Any, problem: str) -> None:
    document = exwatch_payload(make_delivery())
    change(document)
    assert problem in str(schema_errors(document, WEBHOOK_SCHEMA_V1))


def test_every_schema_property_is_sent() -> None:
    assert set(WEBHOOK_SCHEMA_V1["required"]) == set(WEBHOOK_SCHEMA_V1["properties"])
    assert set(exwatch_payload(make_delivery())) == set(WEBHOOK_SCHEMA_V1["properties"])


def test_markup_stays_a_plain_json_string() -> None:
    incident = make_incident(title=Text(XSS, XSS))
    delivery = make_delivery(make_notice(incident=incident, body=Text(XSS, XSS)))
    document = json.loads(encode(exwatch_payload(delivery)))
    assert document["incident"]["title"] == {"ja": XSS, "en": XSS}
    assert document["update"]["body"] == {"ja": XSS, "en": XSS}
    assert "&lt;" not in encode(exwatch_payload(delivery)).decode()


def _mrkdwn_texts(message: dict[str, Any]) -> list[str]:
    """The top-level text and every mrkdwn text in the blocks."""
    texts = [message["text"]]
    for block in message["blocks"]:
        for element in [block.get("text"), *block.get("elements", [])]:
            if element and element.get("type") == "mrkdwn":
                texts.append(element["text"])
    return texts


def test_slack_message_has_header_section_context_and_link() -> None:
    message = slack_payload(make_delivery())
    header, section, context, actions = message["blocks"]
    assert header == {
        "type": "header",
        "text": {
            "type": "plain_text",
            "text": "BTC取引の大規模障害 / BTC trading: major outage",
            "emoji": True,
        },
    }
    text = section["text"]["text"]
    assert (
        text.index("*障害発生*")
        < text.index("調査しています。")
        < text.index("*Incident opened*")
        < text.index("We are investigating.")
    )
    facts = " ".join(e["text"] for e in context["elements"])
    assert "critical" in facts and "BTC取引 / BTC trading" in facts and "API / API" in facts
    assert actions["elements"] == [
        {"type": "button", "action_id": "open", "text": {"type": "plain_text", "text": "詳細 / Details", "emoji": True},
         "url": "https://status.example.com/incidents/42"},
    ]  # fmt: skip
    assert (
        message["text"]
        == "障害発生: BTC取引の大規模障害 / Incident opened: BTC trading: major outage"
    )


def test_slack_page_leads_with_the_acknowledge_button_and_the_reason() -> None:
    message = slack_payload(make_page())
    buttons = message["blocks"][-1]["elements"]
    assert [b["action_id"] for b in buttons] == ["acknowledge", "open"]
    assert buttons[0]["url"] == "https://status.example.com/ack/abc?sig=1"
    assert "Paging: critical incident" in message["blocks"][1]["text"]["text"]
    assert "trading impact class at major_outage" in str(message["blocks"][2])


def test_slack_maintenance_states_the_window() -> None:
    notice = make_notice("maintenance_started", incident=None, maintenance=make_maintenance())
    message = slack_payload(make_delivery(notice))
    assert "2026-11-22T09:00:00Z – 2026-11-22T11:00:00Z" in str(message["blocks"][2])
    assert message["blocks"][-1]["elements"][0]["url"] == "https://status.example.com/maintenance/7"


def test_slack_text_is_escaped_so_markup_never_becomes_links_or_mentions() -> None:
    incident = make_incident(title=Text(XSS, XSS), severity_reason="<@U123> & co")
    delivery = make_delivery(make_notice(incident=incident, body=Text(XSS, XSS)))
    message = slack_payload(delivery)
    texts = _mrkdwn_texts(message)
    assert all("<" not in text and ">" not in text for text in texts)
    assert all(
        "&" not in text.replace("&amp;", "").replace("&lt;", "").replace("&gt;", "")
        for text in texts
    )
    assert (
        '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;!channel&gt;'
        in message["blocks"][1]["text"]["text"]
    )
    assert "&lt;@U123&gt; &amp; co" in str(message["blocks"][2])
    assert message["blocks"][0]["text"]["text"].startswith(
        "<script>"
    )  # plain_text is shown as written


def test_slack_limits_are_kept_without_breaking_an_escape() -> None:
    long = "&" * 5000
    incident = make_incident(title=Text(long, long))
    message = slack_payload(make_delivery(make_notice(incident=incident, body=Text(long, long))))
    assert len(message["blocks"][0]["text"]["text"]) == 150
    section = message["blocks"][1]["text"]["text"]
    assert len(section) <= 3000 and section.endswith("&amp;…")
    assert len(message["text"]) <= 3000 and message["text"].endswith("&amp;…")
