"""The conversation -> the request now: the shopper's earlier turns parsed oldest first, each
follow-up ("cheaper", "换个哑光的") merged into the running request, a new request replacing it,
and the current message last. Pure and bounded (the last MAX_TURNS turns)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from functools import lru_cache

from services.common.color import lab_to_hex
from services.recsys.advisor.lexicon import LOOK_TEMPLATES
from services.recsys.advisor.parser import MAX_CHARS, parse
from services.recsys.advisor.slots import ParseResult, Slots

MAX_TURNS = 20  # the last this many turns of the history are read; older ones are dropped
# ... and no more than this many characters of them, newest first (each message is already at
# most parser.MAX_CHARS): a conversation of 20 long turns stays within the reply's time budget.
HISTORY_CHAR_BUDGET = 4000
# Roles whose turns are not the shopper's (the advisor's own replies carry no request).
_NOT_SHOPPER = frozenset({"assistant", "advisor", "bot", "system", "model", "agent"})
_HAS_WORDS = re.compile(r"[a-z\u3400-\u4dbf\u4e00-\u9fff]", re.I)
_KEEP_ACROSS_REQUESTS = ("skin_words", "undertone")  # what the shopper said of herself


@lru_cache(maxsize=4096)
def _parse_turn(text: str, brands: tuple[str, ...]) -> ParseResult:
    """An earlier turn's parse: the same turns come back with every message of a conversation."""
    return parse(text, brands)


def _bake(slots: Slots) -> Slots:
    """An earlier turn's adjustments made concrete, so that a later turn builds on them: the
    colour moved ("a bit lighter" then "cheaper" keeps the lighter colour), a price cap lowered."""
    if not slots.adjustments:
        return slots
    from services.recsys.advisor import retrieval  # the one owner of what a move means

    changes: dict[str, object] = {"adjustments": ()}
    lab = retrieval.target_lab(slots)
    if lab is not None:
        changes["colour_hex"] = lab_to_hex(lab)
    if "cheaper" in slots.adjustments and slots.max_price_minor:
        changes["max_price_minor"] = int(slots.max_price_minor * retrieval.CHEAPER)
    return replace(slots, **changes)  # type: ignore[arg-type]


def _merge(running: Slots, turn: Slots, follow_up: bool) -> Slots:
    if not follow_up:
        keep = {n: getattr(running, n) for n in _KEEP_ACROSS_REQUESTS if not getattr(turn, n)}
        return replace(turn, **keep)  # type: ignore[arg-type]
    merged = turn.merged_into(running)
    # What this turn asks for wins over what an earlier turn excluded.
    if merged.finish and merged.finish in merged.excluded_finishes:
        if turn.finish:
            merged = replace(
                merged,
                excluded_finishes=tuple(f for f in merged.excluded_finishes if f != merged.finish),
            )
        else:
            merged = replace(merged, finish="")
    if turn.excluded_finishes and merged.finish in turn.excluded_finishes:
        merged = replace(merged, finish="")
    if turn.brands or turn.excluded_brands:
        excluded = tuple(
            b for b in (*running.excluded_brands, *turn.excluded_brands) if b not in turn.brands
        )
        brands = tuple(b for b in (turn.brands or running.brands) if b not in excluded)
        merged = replace(merged, brands=brands, excluded_brands=tuple(dict.fromkeys(excluded)))
    if turn.colour_hex and not turn.colour_family:
        merged = replace(merged, colour_family="")
    return merged


def _other_brand(turn: Slots, other_brand: bool, running: Slots) -> Slots:
    """ "换个牌子" / "another brand": the brands wanted so far become excluded."""
    if not other_brand or not running.brands:
        return turn
    excluded = tuple(dict.fromkeys((*turn.excluded_brands, *running.brands)))
    return replace(turn, excluded_brands=excluded)


def expand_look(slots: Slots) -> Slots:
    """An occasion with no category named -> its look template's categories (and intensity,
    when none was said)."""
    template = LOOK_TEMPLATES.get(slots.occasion)
    if template is None or slots.categories:
        return slots
    return replace(
        slots, categories=template.categories, intensity=slots.intensity or template.intensity
    )


def understand(
    message: str,
    history: Sequence[tuple[str, str]] = (),
    brands: Sequence[str] = (),
    *,
    look: bool = True,
) -> Slots:
    """What the shopper asks for now, given the conversation so far (oldest first, as
    (role, text) pairs). `look=False` leaves an occasion's categories unexpanded (what was said)."""
    brands = tuple(brands)
    turns: list[str] = []
    budget = HISTORY_CHAR_BUDGET
    for role, text in reversed(list(history)[-MAX_TURNS:]):
        if not isinstance(text, str) or str(role).lower() in _NOT_SHOPPER:
            continue
        budget -= min(len(text), MAX_CHARS)
        if budget < 0:
            break
        turns.append(text)
    running = Slots()
    language = ""
    for text in reversed(turns):
        result = _parse_turn(text, brands)
        if _HAS_WORDS.search(text):
            language = result.slots.language
        if result.slots.out_of_scope or result.slots.greeting_only:
            continue
        running = _bake(
            _merge(
                running,
                _other_brand(result.slots, result.other_brand, running),
                result.is_follow_up,
            )
        )

    result = parse(message if isinstance(message, str) else "", brands)
    current = result.slots
    if language and not _HAS_WORDS.search(message if isinstance(message, str) else ""):
        current = replace(current, language=language)  # emoji only: answer in the same language
    if current.out_of_scope or current.greeting_only:
        return current
    current = _other_brand(current, result.other_brand, running)
    slots = _merge(running, current, result.is_follow_up)
    return expand_look(slots) if look else slots
