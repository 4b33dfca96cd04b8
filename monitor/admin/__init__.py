"""The admin API under ``/api/admin/`` (JSON, bearer token): incidents, alerts, maintenance, timeline."""
