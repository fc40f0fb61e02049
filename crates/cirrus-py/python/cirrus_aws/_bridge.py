"""What the native module calls back into: ending an asyncio future from another thread."""

from __future__ import annotations

import asyncio
from typing import Any, Callable


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


async def cleanly(future: "asyncio.Future[Any]", stop: Callable[[], None]) -> Any:
    """Awaits `future`; if the awaiting task is cancelled, calls `stop`, waits for the work to
    wind down (multipart uploads aborted, temporary files removed), then re-raises."""
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError:
        stop()
        try:
            await future
        except BaseException:  # the interrupted transfer's own error: the cancellation wins
            pass
        raise


async def awaiting(future: "asyncio.Future[Any]") -> Any:
    """`future` as a coroutine (cancelling the task cancels the future, which drops the work)."""
    return await future


async def ready(value: Any) -> Any:
    """An awaitable of a value already in hand."""
    return value
