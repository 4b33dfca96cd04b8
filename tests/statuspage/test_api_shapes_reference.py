"""Every Statuspage v2 path, served from a real database, against the reference shapes.

The shapes come from /work/shared/reference/statuspage-api-v2.md, embedded below as REFERENCE
(it lists each object's field names and values; it has no example documents). For each path, the
test
walks the served JSON and asserts, at every nesting level, exactly the reference's keys and, for
every field, the reference's JSON type: one test per (path, field), so each field name is its own
test, and one per (path, object) for the exact key set. The state behind the page holds an open
incident with an update that announced a component's status, a resolved incident, an active and
an upcoming maintenance, and components in groups, so every nested object appears.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from prometheus_client import CollectorRegistry

from monitor.app import Services, build_services, create_app
from monitor.config import Config, parse_config
from monitor.domain import ComponentStatus, IncidentStatus
from monitor.responder import ManualIncident
from monitor.storage.database import Database
from monitor.storage.maintenance import NewMaintenance
from monitor.storage.migrate import upgrade
from statuspage.i18n import message
from tests.lifecycle_support import ESCALATION
from tests.support import FakeClock
from tests.test_engine import COMPONENTS

# ---------------------------------------------------------------------------------------------
# The state: a real database written by the responder and the maintenance service.

OPEN_ON, ANNOUNCED, RESOLVED_ON = "website", "api", "login"
ACTIVE_ON, UPCOMING_ON = "market-data", "charts"
DESCRIBED = "login"  # the one component with a description, so ``description`` is also a string


def config_document(**changes: Any) -> dict[str, Any]:
    """The engine tests' catalog (three groups, ten components, a check each) as YAML data."""
    document: dict[str, Any] = {
        "site": {"name": "Test", "languages": ["ja", "en"]},
        "groups": [{"id": g, "names": {"ja": g, "en": g}} for g in ("trading", "funding", "account")],
        "components": [
            {"id": cid, "names": {"ja": cid + "(ja)", "en": cid}, "group": group,
             "impact_class": klass, "depends_on": deps}
            for cid, group, klass, deps in COMPONENTS
        ],
        "checks": [
            {"id": f"{cid}-check", "component": cid, "kind": "http", "url": "http://127.0.0.1:9/",
             "interval": "10s", "timeout": "1s", "failures_to_alert": 2}
            for cid, *_ in COMPONENTS
        ],
        "escalation": ESCALATION,
    }  # fmt: skip
    described = next(c for c in document["components"] if c["id"] == DESCRIBED)
    described["description"] = {"ja": "ログインと二段階認証", "en": "Login and 2FA"}
    document.update(changes)
    return document


def make_config(**changes: Any) -> Config:
    """Parse ``config_document(**changes)`` as ``exwatch validate`` would."""
    return parse_config(yaml.safe_dump(config_document(**changes), allow_unicode=True))


@dataclass(frozen=True)
class Story:
    """What the responders wrote: the ids to find it again."""

    open_id: int
    resolved_id: int
    active_id: int
    upcoming_id: int


async def start_services(database: Database, clock: FakeClock, config: Config) -> Services:
    """Build and start one process's services (the catalog is written at start)."""
    services = build_services(config, database, clock, metrics_registry=CollectorRegistry())
    await services.engine.start()
    return services


async def tell_story(
    services: Services,
    clock: FakeClock,
    *,
    title: dict[str, str] | None = None,
    body: dict[str, str] | None = None,
) -> Story:
    """Resolve one incident, open another (``title``, first update ``body``) and post an update
    that announces a component's status, run one window and schedule another; then publish."""
    responder, maintenance = services.responder, services.maintenance
    clock.advance(60)
    resolved_id = await responder.open(
        ManualIncident(
            "ログイン障害", "Login failures", "Logins fail", clock.now(),
            {RESOLVED_ON: ComponentStatus.PARTIAL_OUTAGE},
        ),
        clock.now(), actor="sre",
    )  # fmt: skip
    clock.advance(600)
    await responder.post(
        resolved_id, IncidentStatus.RESOLVED, {"ja": "復旧しました", "en": "Fixed"}, clock.now(),
        actor="sre", components={RESOLVED_ON: ComponentStatus.OPERATIONAL},
    )  # fmt: skip
    clock.advance(600)
    text = title or {"ja": "ウェブサイト停止", "en": "Website down"}
    open_id = await responder.open(
        ManualIncident(
            text["ja"], text["en"], "The website is down", clock.now(),
            {OPEN_ON: ComponentStatus.MAJOR_OUTAGE},
            body=body or {"ja": "調査中です", "en": "We are investigating"},
        ),
        clock.now(), actor="sre",
    )  # fmt: skip
    clock.advance(300)
    await responder.post(
        open_id, IncidentStatus.MONITORING, body or {"ja": "監視中", "en": "Watching"},
        clock.now(), actor="sre", components={ANNOUNCED: ComponentStatus.DEGRADED_PERFORMANCE},
    )  # fmt: skip
    now = clock.now()
    upcoming = await maintenance.schedule(
        NewMaintenance(
            "データベース更新", "Database upgrade", "取引は止まりません", "Trading continues",
            now + timedelta(days=2), now + timedelta(days=2, hours=2), (UPCOMING_ON,),
        ),
        actor="admin",
    )  # fmt: skip
    active = await maintenance.schedule(
        NewMaintenance(
            "配信基盤の入替", "Feed migration", "一時的に遅れます", "Delays possible",
            now + timedelta(minutes=5), now + timedelta(hours=1), (ACTIVE_ON,),
        ),
        actor="admin",
    )  # fmt: skip
    clock.advance(300)
    await maintenance.tick(clock.now())  # the window's start comes: it begins by itself
    await services.publisher.publish_now()
    return Story(open_id, resolved_id, active.id, upcoming.id)


async def fetch(services: Services, paths: list[str]) -> dict[str, httpx.Response]:
    """GET each path from the app ``exwatch run`` serves."""
    app = create_app(services, run_checks=False)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://status.test") as client:
        return {path: await client.get(path) for path in paths}


# ---------------------------------------------------------------------------------------------
# The reference shapes.

Check = Callable[[Any], bool]


@dataclass(frozen=True)
class Leaf:
    """A field's JSON type, named as a reader of the reference would say it."""

    kind: str
    check: Check

    def accepts(self, value: Any) -> bool:
        return self.check(value)


@dataclass(frozen=True)
class Obj:
    """An object: exactly these fields."""

    fields: dict[str, Node]


@dataclass(frozen=True)
class Many:
    """A list of ``item``; ``where`` keeps only the items with that (key, value)."""

    item: Obj
    where: tuple[str, Any] | None = None
    nullable: bool = False


@dataclass(frozen=True)
class Either:
    """A list whose items are one shape or another, told apart by a boolean field."""

    key: str
    when_true: Obj
    when_false: Obj


Node = Leaf | Obj | Many | Either


def _string(value: Any) -> bool:
    return isinstance(value, str)


def _timestamp(value: Any) -> bool:
    """ISO 8601 with an offset ("Times are ISO 8601 with offset")."""
    if not isinstance(value, str):
        return False
    try:
        return datetime.fromisoformat(value).utcoffset() is not None
    except ValueError:
        return False


def _date(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _bool(value: Any) -> bool:
    return isinstance(value, bool)


def _or_null(check: Check) -> Check:
    return lambda value: value is None or check(value)


def one_of(*words: str) -> Leaf:
    """A string that is one of ``words``."""
    return Leaf(" | ".join(words), lambda value: value in words)


def string_list() -> Leaf:
    return Leaf("list of strings", lambda v: isinstance(v, list) and all(map(_string, v)))


STRING = Leaf("string", _string)
NUMBER = Leaf("number", _number)
BOOL = Leaf("bool", _bool)
TIME = Leaf("timestamp", _timestamp)
TIME_OR_NULL = Leaf("timestamp or null", _or_null(_timestamp))
STRING_OR_NULL = Leaf("string or null", _or_null(_string))
DATE_OR_NULL = Leaf("date or null", _or_null(_date))

COMPONENT_STATUSES = (
    "operational", "degraded_performance", "partial_outage", "major_outage", "under_maintenance",
)  # fmt: skip
OPEN_STATUSES = ("investigating", "identified", "monitoring")
INCIDENT_STATUSES = (*OPEN_STATUSES, "resolved", "postmortem")
IMPACTS = ("none", "minor", "major", "critical")
WINDOW_UPCOMING = ("scheduled",)
WINDOW_ACTIVE = ("in_progress", "verifying")
WINDOW_STATUSES = (*WINDOW_UPCOMING, *WINDOW_ACTIVE, "completed")
# The reference lists only the incident impacts for a window ("the incident fields plus ..."); a
# window's impact is "maintenance", as Atlassian's own pages serve it (see the final report).
WINDOW_IMPACTS = (*IMPACTS, "maintenance")

PAGE = Obj({"id": STRING, "name": STRING, "url": STRING, "time_zone": STRING, "updated_at": TIME})
REFERENCE_DESCRIPTIONS = (
    "All Systems Operational", "Minor Service Outage", "Partial System Outage",
    "Major Service Outage",
)  # fmt: skip
# "in the page's language": the reference's English words, or the same four in Japanese.
DESCRIPTIONS = (
    *REFERENCE_DESCRIPTIONS,
    *(message(f"banner.{indicator}", "ja") for indicator in IMPACTS),
)
STATUS = Obj({"indicator": one_of(*IMPACTS), "description": one_of(*DESCRIPTIONS)})
COMPONENT_FIELDS: dict[str, Node] = {
    "id": STRING,
    "name": STRING,
    "status": one_of(*COMPONENT_STATUSES),
    "created_at": TIME,
    "updated_at": TIME,
    "position": NUMBER,
    "description": STRING_OR_NULL,
    "showcase": BOOL,
    "start_date": DATE_OR_NULL,
    "group_id": STRING_OR_NULL,
    "page_id": STRING,
    "group": BOOL,
    "only_show_if_degraded": BOOL,
}
COMPONENT = Obj(COMPONENT_FIELDS)
GROUP = Obj({**COMPONENT_FIELDS, "components": string_list()})
COMPONENTS_LIST = Either("group", when_true=GROUP, when_false=COMPONENT)
AFFECTED = Obj(
    {
        "code": STRING,
        "name": STRING,
        "old_status": Leaf("component status or null", _or_null(one_of(*COMPONENT_STATUSES).check)),
        "new_status": one_of(*COMPONENT_STATUSES),
    }
)


def update(statuses: tuple[str, ...], *, affected: Node) -> Obj:
    """An ``incident_update`` whose status is one of ``statuses``."""
    return Obj(
        {
            "id": STRING,
            "status": one_of(*statuses),
            "body": STRING,
            "incident_id": STRING,
            "created_at": TIME,
            "updated_at": TIME,
            "display_at": TIME,
            "affected_components": affected,
            "deliver_notifications": BOOL,
            "custom_tweet": STRING_OR_NULL,
            "tweet_id": STRING_OR_NULL,
        }
    )


def _affected_list(value: Any) -> bool:
    """A list of ``{code, name, old_status, new_status}``, or null."""
    if value is None:
        return True
    return isinstance(value, list) and all(
        isinstance(item, dict)
        and set(item) == set(AFFECTED.fields)
        and all(AFFECTED.fields[key].accepts(item[key]) for key in item)  # type: ignore[union-attr]
        for item in value
    )


def incident(statuses: tuple[str, ...]) -> Obj:
    """An ``incident`` whose status is one of ``statuses``."""
    return Obj(
        {
            "id": STRING,
            "name": STRING,
            "status": one_of(*statuses),
            "created_at": TIME,
            "updated_at": TIME,
            "monitoring_at": TIME_OR_NULL,
            "resolved_at": TIME_OR_NULL,
            "impact": one_of(*IMPACTS),
            "shortlink": STRING,
            "started_at": TIME,
            "page_id": STRING,
            "incident_updates": Many(
                update(INCIDENT_STATUSES, affected=Many(AFFECTED, nullable=True))
            ),
            "components": Many(COMPONENT),
        }
    )


def window(statuses: tuple[str, ...]) -> Obj:
    """A ``scheduled maintenance`` whose status is one of ``statuses``."""
    fields = dict(incident(statuses).fields)
    fields["impact"] = one_of(*WINDOW_IMPACTS)
    # A window's updates follow its life; none announces a component status (no list to walk).
    fields["incident_updates"] = Many(
        update(WINDOW_STATUSES, affected=Leaf("affected list or null", _affected_list))
    )
    return Obj({**fields, "scheduled_for": TIME, "scheduled_until": TIME})


ENDPOINTS: dict[str, Obj] = {
    "summary.json": Obj(
        {
            "page": PAGE,
            "status": STATUS,
            "components": COMPONENTS_LIST,
            "incidents": Many(incident(OPEN_STATUSES)),
            "scheduled_maintenances": Many(window(WINDOW_UPCOMING + WINDOW_ACTIVE)),
        }
    ),
    "status.json": Obj({"page": PAGE, "status": STATUS}),
    "components.json": Obj({"page": PAGE, "components": COMPONENTS_LIST}),
    "incidents.json": Obj({"page": PAGE, "incidents": Many(incident(INCIDENT_STATUSES))}),
    "incidents/unresolved.json": Obj({"page": PAGE, "incidents": Many(incident(OPEN_STATUSES))}),
    "scheduled-maintenances.json": Obj(
        {"page": PAGE, "scheduled_maintenances": Many(window(WINDOW_STATUSES))}
    ),
    "scheduled-maintenances/upcoming.json": Obj(
        {"page": PAGE, "scheduled_maintenances": Many(window(WINDOW_UPCOMING))}
    ),
    "scheduled-maintenances/active.json": Obj(
        {"page": PAGE, "scheduled_maintenances": Many(window(WINDOW_ACTIVE))}
    ),
}
LANGUAGES = ("en", "ja")


def url(endpoint: str, language: str) -> str:
    return f"/api/v2/{endpoint}?lang={language}"


# ---------------------------------------------------------------------------------------------
# Walking a document along a shape.

Step = tuple[Any, ...]  # ("key", name) | ("each",) | ("where", key, value)


@dataclass(frozen=True)
class Place:
    """Where objects of one shape sit in an endpoint's document."""

    endpoint: str
    label: str  # e.g. incidents[].incident_updates[]
    steps: tuple[Step, ...]
    shape: Obj


def places(endpoint: str) -> Iterator[Place]:
    """Every object of the endpoint's shape, outermost first."""

    def walk(shape: Obj, label: str, steps: tuple[Step, ...]) -> Iterator[Place]:
        yield Place(endpoint, label or "(document)", steps, shape)
        for name, node in shape.fields.items():
            here = (*steps, ("key", name))
            prefix = f"{label}.{name}" if label else name
            if isinstance(node, Obj):
                yield from walk(node, prefix, here)
            elif isinstance(node, Many):
                yield from walk(node.item, prefix + "[]", (*here, ("each",)))
            elif isinstance(node, Either):
                for flag, variant in ((True, node.when_true), (False, node.when_false)):
                    tag = f"[{node.key}={str(flag).lower()}]"
                    yield from walk(variant, prefix + tag, (*here, ("each",), ("where", node.key, flag)))  # fmt: skip

    yield from walk(ENDPOINTS[endpoint], "", ())


def select(document: Any, steps: tuple[Step, ...]) -> list[Any]:
    """Every value at ``steps``: a missing key or a null list yields nothing."""
    found = [document]
    for step in steps:
        following: list[Any] = []
        for value in found:
            if step[0] == "key" and isinstance(value, dict) and step[1] in value:
                following.append(value[step[1]])
            elif step[0] == "each" and isinstance(value, list):
                following.extend(value)
            elif step[0] == "where" and isinstance(value, dict) and value.get(step[1]) is step[2]:
                following.append(value)
        found = following
    return found


ALL_PLACES = [place for endpoint in ENDPOINTS for place in places(endpoint)]
FIELDS = [(place, name) for place in ALL_PLACES for name in place.shape.fields]


# ---------------------------------------------------------------------------------------------
# The served documents, once for the module (the per-field tests only read them).


@dataclass(frozen=True)
class Served:
    story: Story
    documents: dict[tuple[str, str], Any]  # (endpoint, language) → parsed JSON
    media_types: dict[tuple[str, str], str]


async def _serve(database_url: str) -> Served:
    database = Database(database_url)
    try:
        await upgrade(database)
        clock = FakeClock()
        services = await start_services(database, clock, make_config())
        story = await tell_story(services, clock)
        keys = [(endpoint, language) for endpoint in ENDPOINTS for language in LANGUAGES]
        answers = await fetch(services, [url(*key) for key in keys])
    finally:
        await database.close()
    for key in keys:
        assert answers[url(*key)].status_code == 200, key
    return Served(
        story,
        {key: json.loads(answers[url(*key)].content) for key in keys},
        {key: answers[url(*key)].headers["content-type"] for key in keys},
    )


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Served:
    """Every endpoint in both languages, from one SQLite database (the whole-document test
    below runs on PostgreSQL too)."""
    path: Path = tmp_path_factory.mktemp("shapes") / "exwatch.db"
    return asyncio.run(_serve(f"sqlite+aiosqlite:///{path}"))


def _objects(served: Served, place: Place, language: str) -> list[dict[str, Any]]:
    found = select(served.documents[(place.endpoint, language)], place.steps)
    assert found, f"{place.endpoint}?lang={language} shows no {place.label}: the state lacks it"
    assert all(isinstance(item, dict) for item in found), f"{place.label} is not an object"
    return found


@pytest.mark.parametrize(
    "place", ALL_PLACES, ids=[f"{p.endpoint}::{p.label}::keys" for p in ALL_PLACES]
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_object_has_exactly_the_reference_keys(
    served: Served, place: Place, language: str
) -> None:
    for item in _objects(served, place, language):
        extra, missing = set(item) - set(place.shape.fields), set(place.shape.fields) - set(item)
        assert (extra, missing) == (set(), set()), (
            f"{place.label}: extra {extra}, missing {missing}"
        )


@pytest.mark.parametrize(
    ("place", "name"), FIELDS, ids=[f"{p.endpoint}::{p.label}.{n}" for p, n in FIELDS]
)
@pytest.mark.parametrize("language", LANGUAGES)
def test_every_field_has_the_reference_type(
    served: Served, place: Place, name: str, language: str
) -> None:
    node = place.shape.fields[name]
    for item in _objects(served, place, language):
        assert name in item, f"{place.label} lacks {name}"
        value = item[name]
        if isinstance(node, Leaf):
            assert node.accepts(value), f"{place.label}.{name} = {value!r} is not {node.kind}"
        elif isinstance(node, Obj):
            assert isinstance(value, dict), f"{place.label}.{name} = {value!r} is not an object"
        else:
            nullable = isinstance(node, Many) and node.nullable
            assert isinstance(value, list) or (nullable and value is None), (
                f"{place.label}.{name} = {value!r} is not a list" + (" or null" if nullable else "")
            )


# ---------------------------------------------------------------------------------------------
# The shapes above are the reference's: its paths and object bullets, parsed.

REFERENCE_FILE = Path("/work/shared/reference/statuspage-api-v2.md")
# The reference's table and "Objects" bullets, verbatim (the file lives outside the repository).
REFERENCE = """\
| path | returns |
|---|---|
| `/api/v2/summary.json` | `page`, `status`, `components[]`, `incidents[]` (unresolved), `scheduled_maintenances[]` (upcoming + active) |
| `/api/v2/status.json` | `page`, `status` |
| `/api/v2/components.json` | `page`, `components[]` |
| `/api/v2/incidents.json` | `page`, `incidents[]` — the 50 most recent, resolved included |
| `/api/v2/incidents/unresolved.json` | `page`, `incidents[]` in investigating / identified / monitoring |
| `/api/v2/scheduled-maintenances.json` | `page`, `scheduled_maintenances[]` — the 50 most recent |
| `/api/v2/scheduled-maintenances/upcoming.json` | those in `scheduled` |
| `/api/v2/scheduled-maintenances/active.json` | those `in_progress` or `verifying` |

Objects (field names exactly):
- **page**: `id`, `name`, `url`, `time_zone`, `updated_at`
- **status**: `indicator` — `none` | `minor` | `major` | `critical`; `description` —
  e.g. "All Systems Operational", "Minor Service Outage", "Partial System Outage",
  "Major Service Outage" (exwatch: in the page's language, `?lang=` selects)
- **component**: `id`, `name`, `status` (`operational` | `degraded_performance` |
  `partial_outage` | `major_outage` | `under_maintenance`), `created_at`, `updated_at`,
  `position`, `description`, `showcase`, `start_date`, `group_id`, `page_id`, `group`
  (true for a group), `only_show_if_degraded`; a group also lists `components` (ids)
- **incident**: `id`, `name`, `status` (`investigating` | `identified` | `monitoring` |
  `resolved` | `postmortem`), `created_at`, `updated_at`, `monitoring_at`,
  `resolved_at`, `impact` (`none` | `minor` | `major` | `critical`), `shortlink`,
  `started_at`, `page_id`, `incident_updates[]`, `components[]`
- **scheduled maintenance**: the incident fields plus `scheduled_for`,
  `scheduled_until`; `status` is `scheduled` | `in_progress` | `verifying` | `completed`
- **incident_update**: `id`, `status`, `body`, `incident_id`, `created_at`,
  `updated_at`, `display_at`, `affected_components` (list of `{code, name,
  old_status, new_status}` or null), `deliver_notifications`, `custom_tweet`, `tweet_id`
"""


def reference_bullets() -> dict[str, set[str]]:
    """Each object bullet's backticked words (``{a, b}`` split), by the object's name."""
    bullets: dict[str, str] = {}
    for line in REFERENCE.split("Objects (field names exactly):")[1].splitlines():
        if line.startswith("- **"):
            name, _, rest = line[4:].partition("**:")
            bullets[name] = rest
        elif line.strip():
            bullets[name] += " " + line.strip()
    words = {
        name: {
            word.strip(" {}").removesuffix("[]")
            for token in re.findall(r"`([^`]+)`", text)
            for word in token.split(",")
        }
        for name, text in bullets.items()
    }
    # Only names: not the ``?lang=`` the status bullet mentions in passing.
    return {name: {w for w in found if re.fullmatch("[a-z_]+", w)} for name, found in words.items()}


def _values(*shapes: Obj) -> set[str]:
    """Every enumerated value of the shapes' fields (the words that are not field names)."""
    words: set[str] = set()
    for shape in shapes:
        for node in shape.fields.values():
            if isinstance(node, Leaf) and " | " in node.kind:
                words |= set(node.kind.split(" | "))
    return words


def test_the_embedded_reference_is_the_shared_one() -> None:
    if not REFERENCE_FILE.is_file():
        pytest.skip("the shared reference is not on this machine; the embedded copy stands")
    assert REFERENCE.strip() in REFERENCE_FILE.read_text()


def test_the_endpoints_are_the_reference_paths() -> None:
    paths = re.findall(r"^\| `/api/v2/([^`]+)` \|", REFERENCE, flags=re.MULTILINE)
    assert paths == list(ENDPOINTS)


@pytest.mark.parametrize(
    ("bullet", "shape", "inherited"),
    [
        ("page", PAGE, set()),
        ("status", STATUS, set()),
        ("component", GROUP, set()),  # a group is a component with ``components``
        ("incident", incident(INCIDENT_STATUSES), set()),
        ("scheduled maintenance", window(WINDOW_STATUSES), set(incident(()).fields) - {"status"}),
        ("incident_update", Obj({**update((), affected=STRING).fields, **AFFECTED.fields}), set()),
    ],
)
def test_each_shape_has_exactly_the_reference_fields_and_values(
    bullet: str, shape: Obj, inherited: set[str]
) -> None:
    words = reference_bullets()[bullet]
    values = words & _values(shape)  # the enumerated words: the rest are field names
    assert words - values == set(shape.fields) - inherited


# ---------------------------------------------------------------------------------------------
# What the per-field tests cannot say alone.


def test_every_path_is_json_and_every_object_is_checked(served: Served) -> None:
    assert set(served.media_types.values()) == {"application/json"}
    # Each endpoint's places were all found non-empty by the tests above; the per-field tests
    # cover every field of every shape of the reference:
    named = {name for place in ALL_PLACES for name in place.shape.fields}
    assert {"only_show_if_degraded", "scheduled_until", "affected_components", "tweet_id",
            "old_status", "time_zone", "indicator"} <= named  # fmt: skip


def test_both_nullable_kinds_of_each_timestamp_appear(served: Served) -> None:
    """``resolved_at`` and ``monitoring_at`` are shown as a time and as null, and
    ``affected_components`` as a list and as null: the types above were checked on both."""
    listed = served.documents[("incidents.json", "en")]["incidents"]
    assert {type(i["resolved_at"]) for i in listed} == {str, type(None)}
    assert {type(i["monitoring_at"]) for i in listed} == {str, type(None)}
    updates = [u for i in listed for u in i["incident_updates"]]
    assert {type(u["affected_components"]) for u in updates} == {list, type(None)}
    described = {c["id"]: c["description"] for c in served.documents[("components.json", "en")]["components"]}  # fmt: skip
    assert described[DESCRIBED] == "Login and 2FA" and described[OPEN_ON] is None


def test_each_list_holds_what_the_reference_says_it_holds(served: Served) -> None:
    story, documents = served.story, served.documents

    def ids(endpoint: str, key: str) -> set[str]:
        return {item["id"] for item in documents[(endpoint, "en")][key]}

    assert ids("incidents.json", "incidents") == {str(story.open_id), str(story.resolved_id)}
    assert ids("incidents/unresolved.json", "incidents") == {str(story.open_id)}
    assert ids("summary.json", "incidents") == {str(story.open_id)}
    both = {f"m{story.active_id}", f"m{story.upcoming_id}"}
    assert ids("scheduled-maintenances.json", "scheduled_maintenances") == both
    assert ids("summary.json", "scheduled_maintenances") == both
    assert ids("scheduled-maintenances/upcoming.json", "scheduled_maintenances") == {
        f"m{story.upcoming_id}"
    }
    assert ids("scheduled-maintenances/active.json", "scheduled_maintenances") == {
        f"m{story.active_id}"
    }
    groups = [c for c in documents[("components.json", "en")]["components"] if c["group"]]
    assert {g["id"] for g in groups} == {"trading", "funding", "account"}
    assert documents[("summary.json", "en")]["status"]["indicator"] == "critical"
    ja = documents[("status.json", "ja")]["status"]
    assert ja["indicator"] == "critical" and ja["description"] != "Major Service Outage"


def shape_errors(document: Any, shape: Obj, label: str = "") -> list[str]:
    """Every difference between ``document`` and ``shape`` (keys and types), recursively."""
    if not isinstance(document, dict):
        return [f"{label or 'document'} is not an object"]
    errors = []
    if set(document) != set(shape.fields):
        errors.append(f"{label or 'document'} keys {sorted(set(document) ^ set(shape.fields))}")
    for name, node in shape.fields.items():
        where, value = f"{label}.{name}" if label else name, document.get(name)
        if isinstance(node, Leaf) and not node.accepts(value):
            errors.append(f"{where} = {value!r} is not {node.kind}")
        elif isinstance(node, Obj):
            errors += shape_errors(value, node, where)
        elif isinstance(node, Many | Either):
            errors += _list_errors(value, node, where)
    return errors


def _list_errors(value: Any, node: Many | Either, where: str) -> list[str]:
    if value is None and isinstance(node, Many) and node.nullable:
        return []
    if not isinstance(value, list):
        return [f"{where} is not a list"]
    errors = []
    for item in value:
        if isinstance(node, Many):
            variant = node.item
        else:
            flag = isinstance(item, dict) and item.get(node.key) is True
            variant = node.when_true if flag else node.when_false
        errors += shape_errors(item, variant, where + "[]")
    return errors


async def test_the_shapes_hold_on_every_database(database: Database, clock: FakeClock) -> None:
    """The whole of each document, in one go, on SQLite and PostgreSQL."""
    services = await start_services(database, clock, make_config())
    await tell_story(services, clock)
    paths = [url(endpoint, language) for endpoint in ENDPOINTS for language in LANGUAGES]
    answers = await fetch(services, paths)
    for endpoint, shape in ENDPOINTS.items():
        for language in LANGUAGES:
            document = answers[url(endpoint, language)].json()
            assert shape_errors(document, shape) == [], (endpoint, language)
    summary = answers[url("summary.json", "en")].json()
    assert summary["incidents"] and summary["scheduled_maintenances"]


def test_the_walker_catches_a_renamed_or_mistyped_field(served: Served) -> None:
    """The checks above can fail: a renamed key, a number for a string, a naive time."""
    document = json.loads(json.dumps(served.documents[("summary.json", "en")]))
    shape = ENDPOINTS["summary.json"]
    assert shape_errors(document, shape) == []
    first_update = document["incidents"][0]["incident_updates"][0]
    first_update["display"] = first_update.pop("display_at")
    document["page"]["updated_at"] = "2026-11-21T09:00:00"
    document["components"][0]["position"] = "1"
    assert shape_errors(document, shape) == [
        "page.updated_at = '2026-11-21T09:00:00' is not timestamp",
        "components[].position = '1' is not number",
        "incidents[].incident_updates[] keys ['display', 'display_at']",
        "incidents[].incident_updates[].display_at = None is not timestamp",
    ]
