"""Button payloads: short versioned strings such as "v1:ci:pain:7:42".

They fit Telegram's 64 bytes and a Discord custom_id. A payload comes back from the client, so it
is untrusted: `parse_action` accepts only the exact shape, and the service re-checks that the
pressing person owns the item named by `ref` and that the question is still open.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

VERSION = "v1"
MAX_BYTES = 64
_PART = re.compile(r"^[a-z0-9_.+-]{1,24}$")
_REF = re.compile(r"^(?:0|[1-9][0-9]{0,9})$")
MAX_REF = 2**31 - 1  # ids are 32-bit integer columns: a larger one fails the database query


@dataclass(frozen=True, slots=True)
class Action:
    """`flow` and `step` name the question, `value` the answer, `ref` what it belongs to
    (a check-in id, a person id, or 0 for buttons anyone may press, like "Start my routine")."""

    flow: str
    step: str
    value: str
    ref: int

    def encode(self) -> str:
        payload = f"{VERSION}:{self.flow}:{self.step}:{self.value}:{self.ref}"
        if len(payload.encode()) > MAX_BYTES or parse_action(payload) != self:
            raise ValueError(f"cannot encode action {self!r}")
        return payload


def parse_action(payload: str) -> Action | None:
    """The action a payload names, or None when it is not one the coach could have sent."""
    if not payload or len(payload.encode("utf-8", "replace")) > MAX_BYTES:
        return None
    parts = payload.split(":")
    if len(parts) != 5 or parts[0] != VERSION:
        return None
    flow, step, value, ref = parts[1:]
    if not (_PART.match(flow) and _PART.match(step) and _PART.match(value) and _REF.match(ref)):
        return None
    if int(ref) > MAX_REF:
        return None
    return Action(flow, step, value, int(ref))
