"""The static export: every snapshot document as a file any static host or CDN can serve.

Layout (``file_for``): ``/`` → ``index.html``, ``/incidents/3`` → ``incidents/3/index.html``,
``/api/v2/summary.json`` → ``api/v2/summary.json``. Each language has its own tree
(``ja/…``, ``en/…``) and the default language is also at the root, so ``/api/v2/summary.json``
and ``/`` work where Statuspage clients and people expect them. Documents shared by every
language (the stylesheet) are written once, at the root.

Links in the HTML are rewritten to relative ones (``?lang=en`` becomes the ``en/`` tree), so
the site works from a domain's root, a sub-path (GitHub Pages) or a bucket. Links to what the
export does not hold (the report and subscribe forms) are left pointing at the server.

Files are replaced atomically (a temporary file in the same directory, then ``os.replace``):
a visitor or a sync job never reads half a file. Only files whose bytes changed are written,
and none is ever deleted, so an incident's address keeps working after it leaves the page.
"""

from __future__ import annotations

import contextlib
import gzip
import html
import os
import posixpath
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

from monitor.history_views import HistoryView
from monitor.views import StatusView
from statuspage.snapshot import Rendered, SnapshotStore

TEMPORARY_PREFIX = ".exwatch-"
TEMPORARY_SUFFIX = ".tmp"
HTML_TYPE = "text/html"
FILE_MODE = 0o644  # static servers run as another user; mkstemp's 0600 would hide the page
_LINK = re.compile(r'(\s(?:href|src)=)"([^"]*)"')


class ExportError(OSError):
    """A file of the export cannot be written (the message names it and why)."""


@dataclass(frozen=True, slots=True)
class ExportReport:
    """What one export did."""

    written: int
    unchanged: int

    @property
    def files(self) -> int:
        """Every file the site has."""
        return self.written + self.unchanged


@dataclass(frozen=True, slots=True)
class _Place:
    """Where a document is written: its server path, language and tree (``""`` is the root)."""

    path: str
    language: str
    tree: str

    @property
    def file(self) -> str:
        return posixpath.join(self.tree, file_for(self.path))


def file_for(path: str) -> str:
    """Return the relative file a server path is written to (``/a/b`` → ``a/b/index.html``)."""
    relative = path.lstrip("/")
    if not relative or relative.endswith("/"):
        return relative + "index.html"
    if "." in relative.rsplit("/", 1)[-1]:
        return relative
    return relative + "/index.html"


class SiteLayout:
    """Knows where every document of one snapshot goes and how pages link to each other."""

    def __init__(self, store: SnapshotStore) -> None:
        self._languages = store.languages
        self._documents: dict[tuple[str, str], Rendered] = {}
        self._shared: dict[str, Rendered] = {}
        for path, language, rendered in store.documents():
            if language is None:
                self._shared[path] = rendered
            else:
                self._documents[(path, language)] = rendered

    def files(self, *, precompressed: bool = False) -> dict[str, bytes]:
        """Return every file of the site, by relative path (with ``.gz`` twins if asked)."""
        site: dict[str, bytes] = {}
        for place, rendered in self._places():
            body = rendered.body
            if rendered.media_type.startswith(HTML_TYPE):
                body = self._relink(body.decode(), place).encode()
            _add(site, place.file, body, rendered, precompressed=precompressed)
        for path, rendered in self._shared.items():
            _add(site, file_for(path), rendered.body, rendered, precompressed=precompressed)
        return site

    def _places(self) -> Iterable[tuple[_Place, Rendered]]:
        default = self._languages[0]
        for (path, language), rendered in self._documents.items():
            yield _Place(path, language, language), rendered
            if language == default:
                yield _Place(path, language, ""), rendered

    def _relink(self, text: str, here: _Place) -> str:
        def replace(match: re.Match[str]) -> str:
            target = self.link(html.unescape(match.group(2)), here)
            return match.group(1) + '"' + html.escape(target, quote=True) + '"'

        return _LINK.sub(replace, text)

    def link(self, href: str, here: _Place) -> str:
        """Return ``href`` (as written in a page at ``here``) relative to ``here``'s file."""
        parts = urlsplit(href)
        if parts.scheme or parts.netloc or not (parts.path or parts.query):
            return href  # another site, or a fragment of this page
        path = _resolve(here.path, parts.path)
        query = dict(parse_qsl(parts.query))
        language = query.pop("lang", here.language)
        if path in self._shared:  # an asset: any query (a cache buster) does no harm
            return self._relative(file_for(path), here, parts.query, parts.fragment)
        if query or language not in self._languages:
            return href  # a query a static file cannot answer
        target = self._file_of(path, language, here)
        if target is None:
            return href  # only the server has it (a form's action, an admin page)
        return self._relative(target, here, "", parts.fragment)

    @staticmethod
    def _relative(target: str, here: _Place, query: str, fragment: str) -> str:
        relative = posixpath.relpath(target, posixpath.dirname(here.file) or ".")
        return relative + (f"?{query}" if query else "") + (f"#{fragment}" if fragment else "")

    def _file_of(self, path: str, language: str, here: _Place) -> str | None:
        if (path, language) not in self._documents:
            return None
        tree = here.tree if language == here.language else language
        return posixpath.join(tree, file_for(path))


def _resolve(base: str, path: str) -> str:
    """Return the server path ``path`` names when written in the page at ``base``."""
    if not path:
        return base
    resolved = posixpath.normpath(posixpath.join(posixpath.dirname(base), path))
    return resolved + "/" if path.endswith("/") and resolved != "/" else resolved


def _add(
    site: dict[str, bytes], name: str, body: bytes, rendered: Rendered, *, precompressed: bool
) -> None:
    site[name] = body
    if precompressed and rendered.gzip is not None:
        same = body is rendered.body
        site[name + ".gz"] = rendered.gzip.body if same else gzip.compress(body, 9, mtime=0)


def site_files(store: SnapshotStore, *, precompressed: bool = False) -> dict[str, bytes]:
    """Return every file of the static site for the store's current snapshot."""
    return SiteLayout(store).files(precompressed=precompressed)


def write_site(files: Mapping[str, bytes], out: Path) -> ExportReport:
    """Write ``files`` under ``out``, each atomically, skipping those already identical.

    Deeper files are written first, so a page never links to one not written yet.
    """
    written = unchanged = 0
    for name in sorted(files, key=lambda n: (-n.count("/"), n)):
        target = out / _safe_relative(name)
        if _same_bytes(target, files[name]):
            unchanged += 1
            continue
        replace_atomically(target, files[name])
        written += 1
    return ExportReport(written, unchanged)


def export_site(store: SnapshotStore, out: Path, *, precompressed: bool = False) -> ExportReport:
    """Write the store's current snapshot as a static site under ``out``."""
    return write_site(site_files(store, precompressed=precompressed), out)


class SiteWriter:
    """Renders a read model into its own snapshot and writes the files that changed."""

    def __init__(self, out: Path, *, precompressed: bool = False) -> None:
        self._out = out
        self._precompressed = precompressed
        self._store = SnapshotStore()

    def __call__(self, view: StatusView, history: HistoryView | None = None) -> ExportReport:
        """Publish ``view`` (and ``history``) and write the site; return what was written."""
        self._store.publish(view, history)
        return export_site(self._store, self._out, precompressed=self._precompressed)


def replace_atomically(target: Path, body: bytes) -> None:
    """Write ``body`` to ``target`` through a temporary file in the same directory."""
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(
            dir=target.parent, prefix=TEMPORARY_PREFIX, suffix=TEMPORARY_SUFFIX
        )
    except OSError as error:
        raise ExportError(f"cannot write {target}: {error.strerror or error}") from error
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(body)
        Path(temporary).chmod(FILE_MODE)
        Path(temporary).replace(target)
    except OSError as error:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise ExportError(f"cannot write {target}: {error.strerror or error}") from error


def sweep_temporary_files(out: Path) -> int:
    """Remove temporary files a killed export left behind; return how many."""
    removed = 0
    for leftover in out.rglob(f"{TEMPORARY_PREFIX}*{TEMPORARY_SUFFIX}"):
        with contextlib.suppress(OSError):
            leftover.unlink()
            removed += 1
    return removed


def _same_bytes(target: Path, body: bytes) -> bool:
    try:
        return target.stat().st_size == len(body) and target.read_bytes() == body
    except OSError:
        return False


def _safe_relative(name: str) -> str:
    """Refuse a document path that would land outside the export directory."""
    normal = posixpath.normpath(name)
    if normal.startswith(("/", "../")) or normal in ("..", "."):
        raise ExportError(f"refusing to write {name!r} outside the export directory")
    return normal
