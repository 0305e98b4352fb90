"""Hedges (「まだちゃんとは」「わからない」「検討中」): a reply that says the user is not sure.

A hedge at a yes/no, amount, number, date or choice step is an answer of its own
kind — "not decided / not known yet" — not a question about the guidelines. It is
recognised by what it does in Japanese, not by a list of phrases:

* a verb of knowing or deciding in the negative (わからない・分かりません・知らない・
  決まっていない・決めていない・定まっていない・把握していない …);
* a state still under way, written as a noun with 「中」 (検討中・確認中・調整中・協議中 …)
  or with the prefixes 未 / 不 (未定・未確認・不明 …);
* a reply that trails off: it opens with 「まだ」 (not yet) or ends in a topic particle
  with no predicate after it (「まだちゃんとは」「一応は」「そこまでは」);
* a vague-degree word on its own (たぶん・おそらく・微妙・なんとも・どちらとも).

Examples:
    >>> [is_hedge(t) for t in ("まだちゃんとは", "わからない", "検討中", "はい", "300万円")]
    [True, True, True, False, False]
"""

from __future__ import annotations

import re
import unicodedata

_NOT_KNOWN = re.compile(
    r"(わか|分か|判|知|決ま|決め|定ま|定め|固ま|把握し|確定し|見当が?つか|見積もれ|算出でき)"
    r"(ら|り|って|れて|て|め|し)?"
    r"(ない|ません|ていない|ていません|てない|てません|ず|かねる|かねます)"
)
_UNDER_WAY = re.compile(r"[一-龥]{2}中(です|だ|で)?$")
_NOT_YET_NOUN = re.compile(r"(未[一-龥]{1,3}|不明|不透明|不確定)")
_TRAILING_PARTICLE = re.compile(r"[ぁ-ん]{1,6}(は|も|まで(は)?)$")
_VAGUE = re.compile(r"^(たぶん|多分|おそらく|恐らく|微妙|なんとも|何とも|どちらとも|さあ|うーん|んー)")


def is_hedge(text: str) -> bool:
    """Whether ``text`` says "I do not know / it is not decided yet" rather than answering."""
    core = unicodedata.normalize("NFKC", text).strip().rstrip("。.、,!！…・ ")
    if not core or len(core) > 40:
        return False
    if _NOT_KNOWN.search(core) or _NOT_YET_NOUN.search(core) or _VAGUE.search(core):
        return True
    if _UNDER_WAY.search(core):
        return True
    if core.startswith("まだ") and not re.search(r"\d", core):
        return True
    # Trails off after a topic particle, with only kana before it: 「まだちゃんとは」「一応は」.
    return bool(_TRAILING_PARTICLE.fullmatch(core)) or bool(
        re.fullmatch(r"(一応|そこまで|ちゃんと|はっきり|きちんと|正確に)(は|まで(は)?)", core)
    )
