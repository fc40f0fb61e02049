"""What the native module calls back into: ending an asyncio future from another thread."""

from __future__ import annotations

import asyncio
from typing import Any


def resolve(future: asyncio.Future[Any], ok: bool, value: Any) -> None:
    """Ends `future` with `value` (a result when `ok`, else an exception), unless it is over."""
    if future.done():
        return
    if ok:
        future.set_result(value)
    else:
        future.set_exception(value)


async def stop_at_none(future: "asyncio.Future[Any]") -> Any:
    """Awaits `future`; a None result ends an `async for` (StopAsyncIteration)."""
    value = await future
    if value is None:
        raise StopAsyncIteration
    return value
