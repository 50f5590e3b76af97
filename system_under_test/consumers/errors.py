"""How a delivery can fail, which decides what happens to the message."""

from __future__ import annotations


class Poison(Exception):
    """No retry can ever apply this message: dead-letter it."""


class MissingReference(Exception):
    """The event names a post that is not applied (yet): park it and try again later.

    A comment can overtake its post (the post consumer may be down); only a
    reference still missing after FEED_REFERENCE_WAIT_S makes it poison.
    """
