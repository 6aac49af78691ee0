"""Seeds derived from names, never from time or process state.

Every trajectory's randomness comes from ``derive_seed(run_seed, family, index, ...)``, so a
shard can be regenerated alone, in any process, in any order, and give the same bytes.
"""

from __future__ import annotations

import hashlib
import random


def derive_seed(*parts: object) -> int:
    """A 63-bit seed from the parts' text (stable across processes, unlike ``hash()``)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") >> 1


def rng_for(*parts: object) -> random.Random:
    return random.Random(derive_seed(*parts))
