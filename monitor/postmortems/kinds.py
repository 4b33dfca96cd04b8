"""The kinds of the timeline events postmortems append (the report and the audit read them)."""

from __future__ import annotations

SAVED = "postmortem_saved"
PUBLISHED = "postmortem_published"
