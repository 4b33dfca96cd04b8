"""Tests of the regional probe agent."""
