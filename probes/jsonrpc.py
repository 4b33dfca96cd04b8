"""The ``jsonrpc_height`` probe: a blockchain node's block height, and its lag behind references.

A node that answers but has stopped following the chain is the failure that matters to an
exchange (deposits stop being credited), so the height is compared with the highest one
reported by reference nodes of the same chain, asked at the same time.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import aiohttp
from pydantic import Field, HttpUrl

from probes.conditions import evaluate_all
from probes.headers import Headers
from probes.result import ProbeResult
from probes.spec import ProbeSpec

Flavor = Literal["ethereum", "bitcoin"]

MAX_HEIGHT = 2**63 - 1  # a signed 64-bit integer; no real chain is anywhere near it
MAX_REPLY_BYTES = 64 * 1024  # a height reply is ~60 bytes; never buffer a runaway body
_ERROR_CHARS = 200
_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]+")
_REQUESTS: dict[str, dict[str, Any]] = {
    "ethereum": {"jsonrpc": "2.0", "id": 1, "method": "eth_blockNumber", "params": []},
    # bitcoind speaks JSON-RPC 1.0: a string id, and both result and error in every reply
    "bitcoin": {"jsonrpc": "1.0", "id": "exwatch", "method": "getblockcount", "params": []},
}


class BadReplyError(ValueError):
    """A node answered, but not with a usable block height."""


class JsonRpcHeightSpec(ProbeSpec):
    """A node to ask for its block height, and reference nodes it must keep up with."""

    kind: Literal["jsonrpc_height"] = "jsonrpc_height"
    url: HttpUrl = Field(description="the node's JSON-RPC endpoint")
    flavor: Flavor = Field(description="ethereum: eth_blockNumber; bitcoin: getblockcount")
    references: tuple[HttpUrl, ...] = Field(
        default=(), description="other nodes of the same chain; the highest height is the reference"
    )
    max_lag: int = Field(default=3, ge=0, description="blocks the node may be behind")
    headers: Headers = Field(
        default_factory=dict, description="sent to the node only (never to references)"
    )
    verify_tls: bool = True

    placeholders: ClassVar[frozenset[str]] = frozenset(
        {"HEIGHT", "REFERENCE_HEIGHT", "HEIGHT_LAG", "RESPONSE_TIME"}
    )


@dataclass(frozen=True, slots=True)
class _Answer:
    """One node's answer: a height, or why there is none."""

    height: int | None = None
    error: str | None = None
    elapsed_ms: float | None = None


class JsonRpcHeightProbe:
    """Asks the node and its references concurrently, over one session per run."""

    def __init__(self, clock: Any = time) -> None:
        self._clock = clock

    async def run(self, spec: JsonRpcHeightSpec) -> ProbeResult:
        """Compare the node's height with the references'; errors become failed results."""
        started = time.perf_counter()
        deadline = asyncio.get_running_loop().time() + spec.timeout
        connector = aiohttp.TCPConnector(force_close=True, ssl=spec.verify_tls)
        async with aiohttp.ClientSession(connector=connector) as session:
            node, *references = await asyncio.gather(
                _ask(session, str(spec.url), spec, spec.headers, deadline),
                # the node's headers often hold its credentials: references don't get them
                *(_ask(session, str(url), spec, {}, deadline) for url in spec.references),
            )
        observed = _observe(node, references)
        error = _built_in_error(spec, node, references, observed)
        outcomes = evaluate_all(spec.conditions, {**observed, "NOW": self._clock.time()})
        return ProbeResult(
            ok=error is None and all(o.ok for o in outcomes),
            duration_s=time.perf_counter() - started,
            observed=observed,
            conditions=outcomes,
            error=error,
        )


def parse_height(flavor: Flavor, raw: bytes) -> int:
    """Return the block height in a JSON-RPC reply body; raises BadReplyError saying what is wrong."""
    try:
        reply = json.loads(raw)
    except (ValueError, RecursionError):  # deeply nested JSON exhausts the parser's stack
        raise BadReplyError(f"the reply is not JSON: {_preview(raw)}") from None
    if not isinstance(reply, dict):
        raise BadReplyError(f"the reply is not a JSON-RPC object: {_preview(raw)}")
    if reply.get("error") is not None:
        raise BadReplyError(f"RPC error: {_rpc_error_text(reply['error'])}")
    if "result" not in reply:
        raise BadReplyError("the reply has neither a result nor an error")
    result = reply["result"]
    height = _from_hex(result) if flavor == "ethereum" else _from_int(result)
    if height > MAX_HEIGHT:
        raise BadReplyError(f"the height {height} is implausibly large")
    return height


def _from_hex(result: Any) -> int:
    if not isinstance(result, str) or not _HEX_QUANTITY.fullmatch(result):
        raise BadReplyError(
            f"the result {_short(result)} is not a hex block number such as '0x1b4'"
        )
    return int(result, 16)


def _from_int(result: Any) -> int:
    if isinstance(result, bool) or not isinstance(result, int) or result < 0:
        raise BadReplyError(f"the result {_short(result)} is not a block count")
    return result


def _rpc_error_text(error: Any) -> str:
    if isinstance(error, dict) and ("code" in error or "message" in error):
        return _clip(f"{error.get('code', '')} {error.get('message', '')}".strip())
    return _short(error)


async def _ask(
    session: aiohttp.ClientSession,
    url: str,
    spec: JsonRpcHeightSpec,
    headers: dict[str, str],
    deadline: float,
) -> _Answer:
    """Ask one node for its height before the deadline; never raises."""
    started = time.perf_counter()
    try:
        async with asyncio.timeout_at(deadline):
            height = await _post(session, url, spec.flavor, headers)
    except TimeoutError:
        return _Answer(error=f"timed out after {spec.timeout:g}s")
    except BadReplyError as error:
        return _Answer(error=str(error))
    except (aiohttp.ClientError, OSError, ValueError) as error:
        return _Answer(error=f"{type(error).__name__}: {error}")
    return _Answer(height=height, elapsed_ms=round((time.perf_counter() - started) * 1000, 3))


async def _post(
    session: aiohttp.ClientSession, url: str, flavor: Flavor, headers: dict[str, str]
) -> int:
    async with session.post(url, json=_REQUESTS[flavor], headers=headers) as response:
        raw = await _read_capped(response.content)
        try:
            return parse_height(flavor, raw)
        except BadReplyError as error:
            if response.status >= 400:  # bitcoind sends RPC errors with 500, auth errors bare
                raise BadReplyError(f"HTTP {response.status} {response.reason}: {error}") from None
            raise


async def _read_capped(stream: aiohttp.StreamReader) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in stream.iter_chunked(MAX_REPLY_BYTES):
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            raise BadReplyError(f"the reply is larger than {MAX_REPLY_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def _observe(node: _Answer, references: list[_Answer]) -> dict[str, Any]:
    """Return the placeholders' values and how many references failed."""
    heights = [r.height for r in references if r.height is not None]
    reference = max(heights) if heights else None
    if node.height is None or (references and reference is None):
        lag = None  # unknown, not zero: the node or every reference failed
    else:
        lag = 0 if reference is None else reference - node.height
    return {
        "HEIGHT": node.height,
        "REFERENCE_HEIGHT": reference,
        "HEIGHT_LAG": lag,
        "RESPONSE_TIME": node.elapsed_ms,
        "references_failed": len(references) - len(heights),
    }


def _built_in_error(
    spec: JsonRpcHeightSpec, node: _Answer, references: list[_Answer], observed: dict[str, Any]
) -> str | None:
    """Return why the node fails the built-in expectation (answers, and keeps up), or None."""
    if node.error is not None:
        return node.error
    if references and observed["REFERENCE_HEIGHT"] is None:
        reasons = "; ".join(f"reference {i}: {r.error}" for i, r in enumerate(references, 1))
        return f"all {len(references)} references failed, so the lag is unknown ({reasons})"
    lag = observed["HEIGHT_LAG"]
    if lag > spec.max_lag:
        return (
            f"{lag} blocks behind the reference height {observed['REFERENCE_HEIGHT']} "
            f"(max_lag {spec.max_lag})"
        )
    return None


def _preview(raw: bytes) -> str:
    return repr(raw[:80].decode("utf-8", errors="replace"))


def _short(value: Any) -> str:
    try:
        text = json.dumps(value)
    except (ValueError, RecursionError):
        text = repr(type(value))
    return _clip(text)


def _clip(text: str) -> str:
    return text if len(text) <= _ERROR_CHARS else text[: _ERROR_CHARS - 1] + "…"
