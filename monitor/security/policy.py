"""The security headers: one strict Content-Security-Policy for everything exwatch renders.

No inline script anywhere (``script-src 'self'``); styles from exwatch's own stylesheets, plus
the public page's brand colours allowed by their exact hash; images from exwatch, ``data:``
and the configured logo's origin; forms post to exwatch only. ``frame-ancestors 'none'`` (and
``X-Frame-Options: DENY``) everywhere, the public page included: it carries the report and
subscribe forms, which must not be clickjacked, and whoever wants the status elsewhere has the
badges and the JSON API. Swagger UI (``/api/docs``) gets its own policy (``docs_policy``).
"""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

Headers = tuple[tuple[bytes, bytes], ...]

SELF, NONE = "'self'", "'none'"
HSTS = "max-age=31536000"  # a year; no includeSubDomains: the exchange owns the parent domain
PUBLIC_REFERRER = "strict-origin-when-cross-origin"
PRIVATE_REFERRER = "no-referrer"  # console, admin, ack and subscription pages: signed links
DOCS_CDN = "https://cdn.jsdelivr.net"  # where FastAPI's Swagger UI page loads its script and CSS
DOCS_ICON = "https://fastapi.tiangolo.com"  # its favicon
_HOST = re.compile(r"^([a-z0-9-]+\.)*[a-z0-9-]+$|^\[[0-9a-f:.]+\]$")


@dataclass(frozen=True, slots=True)
class SiteSecurity:
    """What the headers depend on in the config: whether the site is https, the logo's origin."""

    https: bool = False
    image_origins: tuple[str, ...] = ()

    @classmethod
    def of(cls, url: str, logo_url: str | None = None) -> SiteSecurity:
        """Return the policy inputs of a site at ``url`` showing the logo at ``logo_url``."""
        https = url.lower().startswith("https://")
        origin = _origin(logo_url) if logo_url else None
        return cls(https, (origin,) if origin else ())


def _origin(url: str) -> str | None:
    """Return ``scheme://host[:port]`` of an absolute http(s) URL (None for a relative one).

    A host that is not a plain name or a bracketed IPv6 address is left out: it must not be
    able to add a directive to the policy.
    """
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        return None
    host = parts.netloc.rpartition("@")[2].lower()
    name, _, port = host.rpartition(":") if not host.endswith("]") else (host, "", "")
    if not port.isdigit():
        name, port = host, ""
    if not _HOST.match(name):
        return None
    return f"{parts.scheme.lower()}://{name}{':' + port if port else ''}"


def source_hash(text: str | bytes) -> str:
    """Return the CSP source allowing exactly ``text`` as an inline element's content."""
    data = text.encode() if isinstance(text, str) else text
    return f"'sha256-{base64.b64encode(hashlib.sha256(data).digest()).decode()}'"


def content_security_policy(site: SiteSecurity, *, style_hashes: Iterable[str] = ()) -> str:
    """Return the strict policy of every page exwatch renders (``style_hashes``: inline styles)."""
    return _joined(
        ("default-src", NONE),
        ("script-src", SELF),
        ("style-src", " ".join((SELF, *style_hashes))),
        ("img-src", " ".join((SELF, "data:", *site.image_origins))),
        ("connect-src", SELF),
        ("form-action", SELF),
        ("base-uri", NONE),
        ("object-src", NONE),
        ("frame-ancestors", NONE),
    )


def docs_policy(script_hashes: Iterable[str]) -> str:
    """Return Swagger UI's policy: its CDN, its inline bootstrap script by hash, inline styles.

    Swagger UI injects style elements as it renders (swagger-api/swagger-ui#3370), hence
    ``'unsafe-inline'`` for styles on this page only; its script stays hash-pinned.
    """
    return _joined(
        ("default-src", NONE),
        ("script-src", " ".join((DOCS_CDN, *script_hashes))),
        ("style-src", f"{DOCS_CDN} 'unsafe-inline'"),
        ("img-src", f"{SELF} data: {DOCS_ICON}"),
        ("connect-src", SELF),
        ("form-action", SELF),
        ("base-uri", NONE),
        ("object-src", NONE),
        ("frame-ancestors", NONE),
    )


BARE_POLICY = "default-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
"""The policy of plain-text answers (404, 405, 503): nothing to load, nothing to frame."""


def security_headers(site: SiteSecurity, policy: str, *, referrer: str) -> Headers:
    """Return the headers of a response under ``policy``: CSP, nosniff, no framing, referrer,
    and HSTS when the site is https."""
    headers: Headers = (
        (b"content-security-policy", policy.encode()),
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", referrer.encode()),
    )
    if site.https:
        headers += ((b"strict-transport-security", HSTS.encode()),)
    return headers


def public_headers(site: SiteSecurity, *, style_hashes: Iterable[str] = ()) -> Headers:
    """Return the headers of the public page's documents (baked into the snapshot)."""
    policy = content_security_policy(site, style_hashes=style_hashes)
    return security_headers(site, policy, referrer=PUBLIC_REFERRER)


def private_headers(site: SiteSecurity) -> Headers:
    """Return the headers of what the app renders per request: console, admin, ack, forms."""
    return security_headers(site, content_security_policy(site), referrer=PRIVATE_REFERRER)


PLAIN_HEADERS = security_headers(SiteSecurity(), BARE_POLICY, referrer=PUBLIC_REFERRER)
"""The headers of the snapshot's plain-text answers, which know nothing of the site."""


def _joined(*directives: tuple[str, str]) -> str:
    return "; ".join(f"{name} {value}" for name, value in directives)
