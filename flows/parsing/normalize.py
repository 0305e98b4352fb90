"""Normalisation shared by the answer parsers."""

from __future__ import annotations

import re
import unicodedata

_SPACE_RE = re.compile(r"\s+")
_EDGE_PUNCT = "。、，．,.!！?？…~〜～ 　「」『』\"'"


def normalize_answer(text: str) -> str:
    """NFKC-normalise, lower-case, drop whitespace and edge punctuation.

    Full-width digits and letters become ASCII (``４５０`` → ``450``), ``￥`` becomes
    ``¥`` and full-width brackets become ASCII brackets.
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    folded = _SPACE_RE.sub("", folded)
    return folded.strip(_EDGE_PUNCT)
