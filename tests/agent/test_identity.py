"""The agent's id: given or kept beside the buffer, the same after a restart, and checked."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from monitor.agent import AgentSettings
from monitor.agent.identity import check_agent_id, new_agent_id, stored_agent_id
from monitor.agent.runner import with_agent_id


def settings(tmp_path: Path, **fields: object) -> AgentSettings:
    return AgentSettings("https://exwatch.test", "tokyo", "t", tmp_path, **fields)  # type: ignore[arg-type]


def test_the_default_id_is_the_host_name_and_a_suffix_kept_across_restarts(tmp_path: Path) -> None:
    first = with_agent_id(settings(tmp_path)).agent_id
    assert first is not None and first.startswith(socket.gethostname()[:20])
    assert with_agent_id(settings(tmp_path)).agent_id == first  # a restart keeps it
    assert stored_agent_id(tmp_path / "elsewhere") != first  # another directory, another agent


def test_a_given_id_wins_and_is_not_stored(tmp_path: Path) -> None:
    assert with_agent_id(settings(tmp_path, agent_id="tokyo-1")).agent_id == "tokyo-1"
    assert not (tmp_path / "agent_id").exists()


def test_two_new_ids_of_one_host_differ() -> None:
    assert new_agent_id("host") != new_agent_id("host")


def test_a_host_name_is_made_a_valid_id() -> None:
    agent_id = new_agent_id("my host\t" + "x" * 100)
    assert check_agent_id(agent_id) == agent_id and len(agent_id) <= 64
    assert agent_id.startswith("my-host-")


@pytest.mark.parametrize("bad", ["", "has space", "tab\there", "x" * 65, "né", "line\n"])
def test_a_bad_id_is_refused_saying_why(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError, match="printable ASCII characters without spaces"):
        settings(tmp_path, agent_id=bad)


def test_a_damaged_id_file_is_refused_not_replaced(tmp_path: Path) -> None:
    (tmp_path / "agent_id").write_text("two words\n")
    with pytest.raises(ValueError, match="'two words'"):
        stored_agent_id(tmp_path)
    assert (tmp_path / "agent_id").read_text() == "two words\n"
