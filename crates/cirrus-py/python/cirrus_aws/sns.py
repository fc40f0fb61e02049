"""Verifying what SNS posts to an HTTP(S) endpoint.

    from cirrus_aws.sns import verify_webhook

    message = verify_webhook(request_body)          # SignatureError (a ValueError) if forged
    if message.type == "SubscriptionConfirmation":
        confirm_subscription(message)               # visits its SubscribeURL
    elif (event := message.ses_event) and event.unsubscribe:
        suppress(event.recipients)                  # a hard bounce or a complaint

The signature is checked over SNS's canonical fields (SignatureVersion 1, SHA1withRSA, and 2,
SHA256withRSA) with the certificate at `SigningCertURL`, which must be an `https://sns.<region>.
amazonaws.com[.cn]/....pem` URL; it is fetched once and cached. The verifiers these functions
make are kept, one per set of options, so the cache lasts.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable

from ._cirrus import SesEvent, SnsMessage, SnsVerifier

__all__ = [
    "SesEvent",
    "SnsMessage",
    "SnsVerifier",
    "confirm_subscription",
    "confirm_subscription_async",
    "verify_webhook",
    "verify_webhook_async",
]

_Body = bytes | bytearray | memoryview | str


_Key = tuple[tuple[str, ...] | None, float | None, str | None, str | None]
_verifiers: dict[_Key, SnsVerifier] = {}
_lock = threading.Lock()


def _verifier(key: _Key) -> SnsVerifier:
    """The verifier for these options, made once (a few sets of options, not one per call)."""
    with _lock:
        found = _verifiers.get(key)
        if found is None:
            if len(_verifiers) >= 16:
                _verifiers.clear()
            topics, max_age, ca_file, connect_to = key
            found = SnsVerifier(
                topics=list(topics) if topics is not None else None,
                max_age=max_age,
                ca_file=ca_file,
                connect_to=connect_to,
            )
            _verifiers[key] = found
        return found


def _get(
    topics: Iterable[str] | None,
    max_age: float | None,
    ca_file: str | os.PathLike[str] | None,
    connect_to: str | None,
) -> SnsVerifier:
    if isinstance(topics, str):
        topics = [topics]
    return _verifier(
        (
            tuple(topics) if topics is not None else None,
            max_age,
            os.fspath(ca_file) if ca_file is not None else None,
            connect_to,
        )
    )


def verify_webhook(
    body: _Body,
    *,
    topics: Iterable[str] | None = None,
    max_age: float | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    connect_to: str | None = None,
) -> SnsMessage:
    """Verifies an SNS HTTP(S) notification body; returns the message or raises
    `cirrus_aws.errors.SignatureError` (`.check` says which check failed: `signature`,
    `cert-url`, `format`, `topic`, `age`, `cert-fetch`...).

    `topics` allows only these topic ARNs; `max_age` (seconds) refuses older messages.
    `ca_file` and `connect_to` are for tests and private deployments: trust this PEM bundle
    in place of the built-in roots, and fetch the certificate from `"host:port"`; the
    certificate URL must still be an SNS host's, and its name is what TLS checks.
    """
    return _get(topics, max_age, ca_file, connect_to).verify(body)


async def verify_webhook_async(
    body: _Body,
    *,
    topics: Iterable[str] | None = None,
    max_age: float | None = None,
    ca_file: str | os.PathLike[str] | None = None,
    connect_to: str | None = None,
) -> SnsMessage:
    """`verify_webhook` for asyncio: the certificate is fetched without blocking the loop."""
    return await _get(topics, max_age, ca_file, connect_to).verify_async(body)


def confirm_subscription(
    message: SnsMessage,
    *,
    ca_file: str | os.PathLike[str] | None = None,
    connect_to: str | None = None,
) -> str:
    """Confirms the subscription a verified `SubscriptionConfirmation` asks for, by visiting its
    `SubscribeURL` (https, on the certificate's SNS host, checked again); returns the
    subscription ARN. Raises `SignatureError` (`.check == "subscribe-url"`) if it cannot."""
    return _get(None, None, ca_file, connect_to).confirm_subscription(message)


async def confirm_subscription_async(
    message: SnsMessage,
    *,
    ca_file: str | os.PathLike[str] | None = None,
    connect_to: str | None = None,
) -> str:
    """`confirm_subscription` for asyncio."""
    return await _get(None, None, ca_file, connect_to).confirm_subscription_async(message)
