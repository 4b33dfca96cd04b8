"""Wiring: the services of one exwatch process and the web application, per role."""
