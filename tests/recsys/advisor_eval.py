"""The advisor's labelled evaluation set (tests/data/advisor_eval.jsonl) and its slot accuracy,
shared by the tests (floors) and the benchmark (bench/bench_advisor.py prints it).

Each line: {"id", "message", "history": [earlier shopper turns, oldest first], "expected":
{slot: value}} with only the slots the conversation states; an unstated slot is expected empty.
For a follow-up the expected slots are the whole request so far (what the follow-up changes, and
what it keeps). Brands are labelled in EVAL_BRANDS' spelling (the catalog's), or the brand's
usual name when the catalog does not carry it ("MAC"). Colour families are the names of
services.common.colour_families; "cheap" / "平价" with no number is the documented cap
lexicon.CHEAP_CAP_MINOR; yuan are converted at lexicon.CNY_PER_USD."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from services.recsys.advisor.slots import Slots

EVAL_PATH = Path(__file__).resolve().parents[1] / "data" / "advisor_eval.jsonl"
# The catalog brands the labels assume (the parser is given them, as the RPC gives it the
# tenant's brands).
EVAL_BRANDS = (
    "Dior", "Chanel", "Givenchy", "Yves Saint Laurent", "Maybelline", "NYX", "e.l.f.", "Fenty",
    "Clinique", "Revlon", "L'Oreal", "Milani", "CoverGirl", "ColourPop", "Smashbox", "Stila",
    "Benefit", "Glossier", "wet n wild", "Almay", "Physicians Formula", "Essie", "Anna Sui",
    "Burt's Bees", "Dr. Hauschka",
)  # fmt: skip
# Slots compared as sets (order does not matter), as scalars, and their empty values.
SET_SLOTS = ("categories", "excluded_finishes", "brands", "excluded_brands", "adjustments",
             "skin_words")  # fmt: skip
SCALAR_SLOTS = ("colour_family", "finish", "occasion", "intensity", "max_price_minor",
                "out_of_scope", "language", "undertone")  # fmt: skip
SLOTS = SET_SLOTS + SCALAR_SLOTS
EMPTY = {"max_price_minor": None, "out_of_scope": False, "language": "en"}


@dataclass(frozen=True)
class EvalCase:
    id: str
    message: str
    history: tuple[str, ...]
    expected: dict

    def want(self, slot: str) -> object:
        value = self.expected.get(slot, EMPTY.get(slot, () if slot in SET_SLOTS else ""))
        return frozenset(value) if slot in SET_SLOTS else value


def load_eval(path: Path | str = EVAL_PATH) -> list[EvalCase]:
    cases = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            cases.append(EvalCase(row["id"], row["message"], tuple(row.get("history", ())),
                                  row["expected"]))  # fmt: skip
    return cases


def got(slots: Slots, slot: str) -> object:
    value = getattr(slots, slot)
    return frozenset(value) if slot in SET_SLOTS else value


ParseFn = Callable[[str, Sequence[str]], Slots]  # (message, earlier shopper turns) -> Slots


def default_parse_fn() -> ParseFn:
    """The advisor's own understanding of a conversation: what was said (no look expansion)."""
    from services.recsys.advisor.dialogue import understand

    def run(message: str, history: Sequence[str]) -> Slots:
        return understand(message, [("user", h) for h in history], EVAL_BRANDS, look=False)

    return run


def mistakes(cases: Iterable[EvalCase], parse_fn: ParseFn) -> list[tuple[str, str, object, object]]:
    """(case id, slot, expected, got) for every slot a case gets wrong."""
    out = []
    for case in cases:
        slots = parse_fn(case.message, case.history)
        for slot in SLOTS:
            if got(slots, slot) != case.want(slot):
                out.append((case.id, slot, case.want(slot), got(slots, slot)))
    return out


def slot_accuracy(cases: Sequence[EvalCase], parse_fn: ParseFn | None = None) -> dict[str, float]:
    """Per slot, the share of cases whose slot is exactly as labelled (an unstated slot must
    stay empty); "every_slot": the share of cases with every slot right."""
    parse_fn = parse_fn or default_parse_fn()
    right = dict.fromkeys(SLOTS, 0)
    whole = 0
    for case in cases:
        slots = parse_fn(case.message, case.history)
        ok = [got(slots, s) == case.want(s) for s in SLOTS]
        for slot, good in zip(SLOTS, ok, strict=True):
            right[slot] += good
        whole += all(ok)
    n = max(len(cases), 1)
    return {**{s: right[s] / n for s in SLOTS}, "every_slot": whole / n}


def evaluate(path: Path | str = EVAL_PATH, parse_fn: ParseFn | None = None) -> dict[str, float]:
    return slot_accuracy(load_eval(path), parse_fn)
