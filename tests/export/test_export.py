"""The static export: every document as a file, relative links, atomic and minimal rewrites."""

from __future__ import annotations

import gzip
import re
import threading
from pathlib import Path
from typing import Any

import pytest

from statuspage import snapshot
from statuspage.export import (
    TEMPORARY_PREFIX,
    ExportError,
    export_site,
    file_for,
    replace_atomically,
    site_files,
    sweep_temporary_files,
)
from tests.export.support import incident, published, view

LINK = re.compile(r'(?:href|src)="([^"]*)"')


def test_paths_map_to_files_a_static_host_serves() -> None:
    assert file_for("/") == "index.html"
    assert file_for("/incidents/3") == "incidents/3/index.html"
    assert file_for("/history/") == "history/index.html"
    assert file_for("/api/v2/summary.json") == "api/v2/summary.json"
    assert file_for("/components/a/badge.svg") == "components/a/badge.svg"


def test_every_snapshot_document_is_written(tmp_path: Path) -> None:
    store = published(incident(3))
    report = export_site(store, tmp_path)
    written = {str(p.relative_to(tmp_path)) for p in tmp_path.rglob("*") if p.is_file()}
    assert report.written == len(written) and report.unchanged == 0
    for path, language, rendered in store.documents():
        names = [file_for(path)] if language is None else [f"{language}/{file_for(path)}"]
        if language == "ja":  # the default language is also at the root
            names.append(file_for(path))
        for name in names:
            assert name in written, name
            if not rendered.media_type.startswith("text/html"):
                assert (tmp_path / name).read_bytes() == rendered.body
    assert {"index.html", "en/index.html", "ja/index.html", "incidents/3/index.html",
            "en/incidents/3/index.html", "api/v2/summary.json", "en/api/v2/summary.json",
            "static/style.css"} <= written  # fmt: skip
    assert '<html lang="en">' in (tmp_path / "en/index.html").read_text()
    assert '<html lang="ja">' in (tmp_path / "index.html").read_text()
    assert all((tmp_path / name).stat().st_mode & 0o777 == 0o644 for name in written)


def test_every_link_between_pages_resolves_to_an_exported_file(tmp_path: Path) -> None:
    export_site(published(incident(3), incident(4)), tmp_path)
    for page in tmp_path.rglob("*.html"):
        for href in LINK.findall(page.read_text()):
            assert "lang=" not in href, (page, href)
            if href.startswith("#"):
                continue
            target = (page.parent / href.split("#")[0]).resolve()
            assert target.is_file() and target.is_relative_to(tmp_path), (page, href)


def test_language_links_switch_trees_and_stay_in_them(tmp_path: Path) -> None:
    export_site(published(incident(3)), tmp_path)
    root = LINK.findall((tmp_path / "index.html").read_text())
    assert "en/index.html" in root and "incidents/3/index.html" in root
    english = LINK.findall((tmp_path / "en/incidents/3/index.html").read_text())
    assert "../../../ja/incidents/3/index.html" in english  # the other language
    assert "../../index.html" in english and "../../../static/style.css" in english
    assert "../../api/v2/summary.json" in english


def test_links_the_export_cannot_answer_are_left_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    page = (
        '<a href="/api/reports">r</a> <a href="https://x.example/a?lang=en">x</a> '
        '<a href="#top">t</a> <a href="/?page=2&amp;lang=en">p</a> '
        '<a href="/incidents/3?lang=en#latest">i</a> <img src="/static/style.css?v=2">'
    )
    add_document(monkeypatch, "/links", page.encode(), "text/html; charset=utf-8")
    export_site(published(incident(3)), tmp_path)
    links = LINK.findall((tmp_path / "en/links/index.html").read_text())
    assert links == ["/api/reports", "https://x.example/a?lang=en", "#top", "/?page=2&amp;lang=en",
                     "../incidents/3/index.html#latest", "../../static/style.css?v=2"]  # fmt: skip


def test_a_new_document_is_exported_with_no_change_here(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_document(monkeypatch, "/history.atom", b"<feed/>", "application/atom+xml")
    export_site(published(), tmp_path)
    assert (tmp_path / "history.atom").read_bytes() == b"<feed/>"
    assert (tmp_path / "en/history.atom").read_bytes() == b"<feed/>"


def test_only_changed_files_are_rewritten(tmp_path: Path) -> None:
    store = published()
    first = export_site(store, tmp_path)
    style = (tmp_path / "static/style.css").stat().st_ino
    assert export_site(store, tmp_path).written == 0
    store.publish(view(incident(5)))
    changed = export_site(store, tmp_path)
    assert 0 < changed.written < changed.files and changed.files > first.files
    assert (tmp_path / "static/style.css").stat().st_ino == style
    assert '"5"' in (tmp_path / "api/v2/incidents/unresolved.json").read_text()
    assert not list(tmp_path.rglob(f"{TEMPORARY_PREFIX}*"))


def test_a_failed_write_keeps_the_old_file_and_leaves_no_temporary(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "a" / "index.html"
    replace_atomically(target, b"old")

    def refuse(self: Path, other: Any) -> Path:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Path, "replace", refuse)
    with pytest.raises(ExportError, match="No space left on device"):
        replace_atomically(target, b"new")
    assert target.read_bytes() == b"old"
    assert [p.name for p in target.parent.iterdir()] == ["index.html"]


def test_readers_never_see_a_partial_file(tmp_path: Path) -> None:
    target = tmp_path / "summary.json"
    versions = (b"a" * 300_000, b"b" * 200_000)
    replace_atomically(target, versions[0])
    done = threading.Event()

    def rewrite() -> None:
        for round_ in range(60):
            replace_atomically(target, versions[round_ % 2])
        done.set()

    writer = threading.Thread(target=rewrite)
    writer.start()
    reads = 0
    while not done.is_set() and reads < 5_000:
        assert target.read_bytes() in versions
        reads += 1
    writer.join(timeout=30)
    assert not writer.is_alive() and reads > 0
    assert [p.name for p in tmp_path.iterdir()] == ["summary.json"]


def test_leftover_temporary_files_are_swept(tmp_path: Path) -> None:
    (tmp_path / "incidents").mkdir()
    (tmp_path / "incidents" / f"{TEMPORARY_PREFIX}abc.tmp").write_bytes(b"half")
    (tmp_path / "keep.tmp").write_bytes(b"not ours")
    assert sweep_temporary_files(tmp_path) == 1
    assert [p.name for p in tmp_path.rglob("*") if p.is_file()] == ["keep.tmp"]


def test_gzip_twins_match_their_files(tmp_path: Path) -> None:
    files = site_files(published(incident(3)), precompressed=True)
    twins = [name for name in files if name.endswith(".gz")]
    assert "index.html.gz" in twins and "api/v2/summary.json.gz" in twins
    for twin in twins:
        assert gzip.decompress(files[twin]) == files[twin.removesuffix(".gz")]


def test_a_path_leaving_the_directory_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_document(monkeypatch, "/../../escape", b"x", "text/plain")
    with pytest.raises(ExportError, match="outside the export directory"):
        export_site(published(), tmp_path / "site")
    assert not (tmp_path / "escape").exists()


def add_document(monkeypatch: pytest.MonkeyPatch, path: str, body: bytes, media_type: str) -> None:
    """Make every language render one more document, as a new renderer would."""
    render = snapshot._render_language

    def more(*args: Any, **kwargs: Any) -> dict[str, tuple[bytes, str]]:
        return render(*args, **kwargs) | {path: (body, media_type)}

    monkeypatch.setattr(snapshot, "_render_language", more)
