"""Grafana incident annotations: a point when an incident opens, a region once it is resolved.

``annotation`` says what an annotation holds, ``outcomes`` reads Grafana's answers, and
``channel`` creates and updates them; ``build_grafana_channel`` is the registry's factory.
"""

from notifiers.grafana.annotation import annotation_fields, annotation_tags, annotation_text
from notifiers.grafana.channel import GrafanaAnnotator, GrafanaTarget, build_grafana_channel

__all__ = [
    "GrafanaAnnotator",
    "GrafanaTarget",
    "annotation_fields",
    "annotation_tags",
    "annotation_text",
    "build_grafana_channel",
]
