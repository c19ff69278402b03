"""Strategy tags in MT5 order comments: what fits beside the key eaflow recognises its
orders by, within MT5's 31 characters (docs/decisions/0015).

An order without a tag keeps the comment `ea:<20 hex>`; a tagged one is `<tag>#<12 base32>`,
the tag first so the terminal's comment column shows it. Exits that name a strategy match
the tag read back from a position's or pending order's comment.
"""

from __future__ import annotations

import re

COMMENT_LENGTH = 31
"""MT5 keeps at most 31 characters of an order's comment."""
KEY_LENGTH = 12
"""Base32 characters of the order's digest in a tagged comment: 60 bits."""
SEPARATOR = "#"
LABEL_LENGTH = COMMENT_LENGTH - len(SEPARATOR) - KEY_LENGTH
"""18: the longest tag that fits."""
UNTAGGED = re.compile(r"ea:[0-9a-f]{20}")
TAGGED = re.compile(rf"([\x20-\x7e]{{1,{LABEL_LENGTH}}}){SEPARATOR}([a-z2-7]{{{KEY_LENGTH}}})")


def label_of(strategy: str | None, comment: str = "") -> str:
    """The tag an order carries: its strategy, else the first 18 characters of its comment
    (characters outside printable ASCII become `?`); '' for neither."""
    text = strategy or comment
    cleaned = "".join(c if " " <= c <= "~" else "?" for c in text).strip()
    return cleaned[:LABEL_LENGTH].rstrip()


def label_in(comment: str) -> str | None:
    """The tag of a comment eaflow wrote ('' when untagged); None for any other comment
    (a manual trade's, another EA's, or one the broker rewrote)."""
    if UNTAGGED.fullmatch(comment):
        return ""
    tagged = TAGGED.fullmatch(comment)
    return tagged[1] if tagged else None
