"""One shopper message -> Slots: language, tokens (jieba for Chinese, a regex for the rest),
lexicon phrases matched longest first (with a one- or two-edit typo match for longer English
words), then negation scope, colour phrases (modifiers moving the colour in CIELAB), prices with
their currency, brands, skin words, follow-up and out-of-scope detection.

Pure and bounded: the message is cut to MAX_CHARS before anything else, every step is linear in
the tokens, and no input raises (control characters, emoji, gibberish all parse to something).
jieba's dictionary and the phrase index are built once per process, on first use.
"""

from __future__ import annotations

import logging
import math
import re
import threading
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from services.common.color import hex_to_lab, lab_to_hex
from services.common.colour_families import DEPTH_CATEGORIES, colour_family
from services.recsys.advisor import lexicon as lx
from services.recsys.advisor.colour_words import MODIFIERS, all_colour_words
from services.recsys.advisor.slots import ParseResult, Slots

MAX_CHARS = 2000  # the RPC refuses longer messages; the parser looks at no more than this
MAX_FREE_WORDS = 20

_CJK = "\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_CHAR = re.compile(f"[{_CJK}]")
_CJK_SPLIT = re.compile(f"([{_CJK}]+)")
_LATIN_WORD = re.compile(r"[a-z]+", re.I)
_HEX = re.compile(r"^#[0-9a-f]{6}$")
_NUMBER = re.compile(r"^\d+(?:\.\d+)?$")
_TOKEN = re.compile(
    r"#[0-9a-f]{6}(?![0-9a-z])"  # a hex colour
    r"|\d+(?:\.\d+)?"  # a number
    r"|[a-zà-ÿ0-9]+(?:['’&.][a-zà-ÿ0-9]+)*"  # a word (don't, e.l.f, rom&nd)
    r"|[^\s\w]",  # one punctuation or symbol character ($, ¥, <, emoji)
    re.I,
)
_ZH_NUMERAL = re.compile(
    r"[零一二两三四五六七八九十百千]+(?=\s*(?:元|块|刀|美元|美金|以内|以下|之内|人民币))"
)
_ZH_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
              "八": 8, "九": 9}  # fmt: skip
_ZH_UNITS = {"十": 10, "百": 100, "千": 1000}
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\ufeff]")

# Scope of a negation ends at these.
_BREAKERS = frozenset(",.;!?，。；！？:：\n") | {
    "but", "and", "however", "但", "但是", "可是", "而是", "只要", "要", "和",
}  # fmt: skip
# Words that may stand between a negation and what it refuses ("not a fan of shimmer").
_NEG_FILLERS = lx.DEGREE_WORDS | {
    "from", "by", "with", "any", "such", "fan", "big", "into", "keen", "on", "much", "or",
    "nor", "/", "、", "-", "one", "ones", "kind", "type", "sort", "任何", "那种", "这种", "太",
}  # fmt: skip
_POST_NEGATIONS = frozenset({"不要", "不考虑", "除外", "算了", "不行", "不用", "免了", "少点",
                             "少一点", "少些"})  # fmt: skip
_TOO = frozenset({"too", "太", "overly", "过于", "太过"})
_POST_NEG_GLUE = frozenset({"都", "也", "和", "、", "或", "或者", "的", "就", "还有", "跟"})
_CONJUNCTIONS = frozenset({"or", "nor", "/", "、", "或", "或者", "也不要", "and"})
_USD_BEFORE = frozenset({"$", "usd", "us$"})
_CNY_BEFORE = frozenset({"¥", "￥", "rmb", "cny"})
_USD_AFTER = frozenset({"dollars", "dollar", "bucks", "usd", "刀", "美元", "美金", "$"})
_CNY_AFTER = frozenset({"元", "块", "块钱", "rmb", "yuan", "cny", "人民币", "元钱", "¥"})
_RANGE = frozenset({"-", "~", "到", "至", "to", "–"})
_STOP = frozenset({
    "i", "me", "my", "a", "an", "the", "for", "to", "of", "and", "or", "with", "in", "on", "is",
    "it", "want", "need", "looking", "something", "some", "any", "please", "can", "you", "show",
    "recommend", "suggest", "find", "one", "that", "this", "be", "would", "like", "what", "are",
    "do", "does", "have", "has", "get", "good", "nice", "best", "which", "im", "i'm", "give",
    "buy", "pick", "help", "us", "we", "your", "我", "想", "要", "想要", "一支", "一个", "一款",
    "的", "了", "吗", "呢", "吧", "啊", "有", "推荐", "请", "给", "帮", "找", "适合", "什么",
    "哪", "哪个", "个", "支", "款", "一下", "一点", "点", "是", "在", "也", "都", "还", "就",
    "和", "或", "用", "买", "能", "可以", "我们", "你", "再",
})  # fmt: skip


# --- the phrase index (built once) ---------------------------------------------------------------


@dataclass(frozen=True)
class _Meaning:
    kind: str  # category, finish, colour, modifier, intensity, occasion, adjustment, neg,
    # degree, skin, greeting, makeup, oos, cheap, captword, another, otherbrand, marker, brand
    value: str = ""
    extra: str = ""


class _Index:
    def __init__(self) -> None:
        import jieba  # imported here: the module loads fast, the dictionary once, on first use

        jieba.setLogLevel(logging.WARNING)
        self._jieba = jieba.Tokenizer()
        self._jieba.initialize()
        self.phrases: dict[tuple[str, ...], list[_Meaning]] = {}
        self.colours = all_colour_words()
        entries: list[tuple[str, _Meaning]] = []
        for word, cat in lx.CATEGORY_WORDS.items():
            entries.append(
                (word, _Meaning("category", cat, lx.CATEGORY_IMPLIED_FINISH.get(word, "")))
            )
        entries += [(w, _Meaning("finish", f)) for w, f in lx.FINISH_WORDS.items()]
        entries += [(w, _Meaning("colour", w)) for w in self.colours]
        entries += [(w, _Meaning("modifier", w)) for w in MODIFIERS]
        entries += [(w, _Meaning("intensity", v)) for w, v in lx.INTENSITY_WORDS.items() if v]
        entries += [(w, _Meaning("occasion", v)) for w, v in lx.OCCASION_WORDS.items()]
        entries += [(w, _Meaning("adjustment", v)) for w, v in lx.ADJUSTMENT_WORDS.items()]
        entries += [(w, _Meaning("neg")) for w in lx.NEGATIONS]
        entries += [(w, _Meaning("neg")) for w in lx.NEGATION_PHRASES]
        entries += [(w, _Meaning("skin", w)) for w in lx.SKIN_WORDS]
        entries += [(w, _Meaning("greeting")) for w in lx.GREETINGS]
        entries += [(w, _Meaning("makeup")) for w in lx.MAKEUP_WORDS]
        entries += [(w, _Meaning("oos")) for w in lx.OUT_OF_SCOPE_WORDS]
        entries += [(w, _Meaning("cheap")) for w in lx.CHEAP_WORDS]
        entries += [(w, _Meaning("captword")) for w in lx.PRICE_CAP_WORDS]
        entries += [(w, _Meaning("another")) for w in lx.ANOTHER_WORDS]
        entries += [(w, _Meaning("otherbrand")) for w in lx.OTHER_BRAND_WORDS]
        entries += [(w, _Meaning("marker")) for w in lx.FOLLOW_UP_MARKERS]
        entries += [(w, _Meaning("brand", b)) for w, b in lx.BRAND_ALIASES.items()]
        entries += [(w, _Meaning("degree")) for w in lx.DEGREE_WORDS]
        cjk_words = {w for w, _ in entries if _CJK_CHAR.search(w)}
        for word in sorted(cjk_words):
            self._jieba.add_word(word, freq=200_000)
        self.cjk_words = frozenset(cjk_words)
        self.max_cjk_word = max(len(w) for w in cjk_words)
        for word, meaning in entries:
            key = tuple(self.tokenize(word.lower()))
            if key:
                bucket = self.phrases.setdefault(key, [])
                if meaning not in bucket:
                    bucket.append(meaning)
        self.max_len = max(len(k) for k in self.phrases)
        # typo matching: English single words of >= 5 letters, by their deletion neighbourhoods
        self.vocab = frozenset(
            k[0] for k in self.phrases if len(k) == 1 and k[0].isalpha() and k[0].isascii()
        )
        self.deletes: dict[str, set[str]] = {}
        for word in self.vocab:
            if len(word) >= 5:
                for d in _deletes(word, 2):
                    self.deletes.setdefault(d, set()).add(word)

    def tokenize(self, text: str) -> list[str]:
        tokens: list[str] = []
        for i, part in enumerate(_CJK_SPLIT.split(text)):
            if not part:
                continue
            if i % 2:  # a CJK run
                tokens += [t for t in self._jieba.lcut(part, HMM=False) if t.strip()]
            else:
                tokens += [t.lower() for t in _TOKEN.findall(part)]
        return tokens

    def split_unknown_cjk(self, token: str) -> list[str] | None:
        """A Chinese token jieba kept whole ("深红色", "哑光唇釉") as lexicon words, when they
        cover it exactly (longest first); None when they do not."""
        out, i = [], 0
        while i < len(token):
            for n in range(min(self.max_cjk_word, len(token) - i), 0, -1):
                if token[i : i + n] in self.cjk_words:
                    out.append(token[i : i + n])
                    i += n
                    break
            else:
                return None
        return out if len(out) > 1 else None


def _deletes(word: str, depth: int) -> set[str]:
    out = {word}
    frontier = {word}
    for _ in range(depth):
        frontier = {w[:i] + w[i + 1 :] for w in frontier for i in range(len(w))}
        out |= frontier
    return out


def _edit_distance(a: str, b: str, limit: int) -> int:
    """Damerau-Levenshtein (optimal string alignment), early exit above limit."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        if min(cur) > limit:
            return limit + 1
        prev2, prev = prev, cur
    return prev[-1]


_index: _Index | None = None
_index_lock = threading.Lock()


def _get_index() -> _Index:
    global _index
    if _index is None:
        with _index_lock:
            if _index is None:
                _index = _Index()
    return _index


def warm_up() -> None:
    """Build jieba's dictionary and the phrase index now (a worker calls this at start)."""
    _get_index()


@lru_cache(maxsize=4096)
def _correct(token: str) -> str:
    """A lexicon word one edit (two for words of >= 8 letters) from this unknown English word,
    with the same first letter."""
    index = _get_index()
    if (
        len(token) < 5
        or not token.isalpha()
        or not token.isascii()
        or token in index.vocab
        or token in lx.COMMON_WORDS
    ):
        return token
    limit = 2 if len(token) >= 8 else 1
    candidates: set[str] = set()
    for d in _deletes(token, 2):  # 2: a transposition is two deletions apart
        candidates |= index.deletes.get(d, set())
    best, best_d = token, limit + 1
    for cand in sorted(candidates):
        if cand[0] != token[0]:
            continue  # typos keep the first letter; "morning" is not "working"
        d = _edit_distance(token, cand, limit)
        if d < best_d:
            best, best_d = cand, d
    return best


def _norm_brand(name: str) -> str:
    s = unicodedata.normalize("NFKD", name.lower())
    return "".join(c for c in s if c.isalnum() and not unicodedata.combining(c))


@lru_cache(maxsize=16)
def _brand_phrases(brands: tuple[str, ...]) -> tuple[dict[tuple[str, ...], str], dict[str, str]]:
    """The catalog's brand names as token phrases, and normalised name -> catalog spelling."""
    index = _get_index()
    spelling = {_norm_brand(b): b for b in brands if _norm_brand(b)}
    phrases: dict[tuple[str, ...], str] = {}
    for b in brands:
        key = tuple(index.tokenize(b.lower()))
        if key and _norm_brand(b):
            phrases[key] = b
    return phrases, spelling


def _catalog_spelling(name: str, spelling: dict[str, str]) -> str:
    """The catalog's name for a brand: the same letters ("elf" -> "e.l.f."), else the one
    catalog brand that starts with it ("Fenty" -> "Fenty Beauty"), else the name as known."""
    key = _norm_brand(name)
    if key in spelling:
        return spelling[key]
    if len(key) >= 3:
        longer = sorted((k for k in spelling if k.startswith(key)), key=len)
        if longer:
            return spelling[longer[0]]
    return name


# --- parsing -------------------------------------------------------------------------------------


@dataclass
class _Item:
    start: int
    end: int
    meaning: _Meaning
    text: str


def detect_language(text: str) -> str:
    """ "zh" when the message has at least as many CJK characters as Latin words, else "en"."""
    cjk = len(_CJK_CHAR.findall(text))
    return "zh" if cjk and cjk >= len(_LATIN_WORD.findall(text)) else "en"


def _zh_number(s: str) -> int:
    """一百 100, 两百五十 250, 一百五 150 (a last digit after a unit is one unit lower)."""
    total, current, last_unit = 0, 0, 0
    for ch in s:
        if ch in _ZH_DIGITS:
            current = _ZH_DIGITS[ch]
        elif ch in _ZH_UNITS:
            total += (current or 1) * _ZH_UNITS[ch]
            current, last_unit = 0, _ZH_UNITS[ch]
    if current and last_unit >= 100 and s[-1] in _ZH_DIGITS and s[-2] in _ZH_UNITS:
        current *= last_unit // 10
    return total + current


def _clean(message: str) -> str:
    text = unicodedata.normalize("NFKC", message[:MAX_CHARS])
    text = _CONTROL.sub(" ", text)
    return _ZH_NUMERAL.sub(lambda m: str(_zh_number(m.group(0))), text)


def _match(tokens: list[str], brand_phrases: dict[tuple[str, ...], str]) -> list[_Item]:
    index = _get_index()
    items: list[_Item] = []
    i, n = 0, len(tokens)
    max_len = max(index.max_len, max((len(k) for k in brand_phrases), default=1))
    while i < n:
        found = False
        for length in range(min(max_len, n - i), 0, -1):
            key = tuple(tokens[i : i + length])
            meanings = list(index.phrases.get(key, ()))
            if key in brand_phrases:
                meanings = [_Meaning("brand", brand_phrases[key])] + [
                    m for m in meanings if m.kind not in ("colour", "brand")
                ]
            if meanings:
                text = ("" if _CJK_CHAR.search(key[0]) else " ").join(key)
                items += [_Item(i, i + length, m, text) for m in meanings]
                i += length
                found = True
                break
        if not found:
            i += 1
    return items


def _post_negated(tokens: list[str], in_item: set[int]) -> set[int]:
    """Positions of the words a clause-final Chinese negation refuses: "迪奥和香奈儿都不要",
    "珠光的不要" (walking back over lexicon words, conjunctions and 都/也/的); and "X-free"."""
    out: set[int] = set()
    for k, tok in enumerate(tokens):
        if tok == "free" and k >= 2 and tokens[k - 1] == "-" and k - 2 in in_item:
            out.add(k - 2)  # "shimmer-free", "glitter-free"
            continue
        if tok not in _POST_NEGATIONS or (
            k + 1 < len(tokens)
            and tokens[k + 1] not in _BREAKERS
            and tokens[k + 1] not in ("了", "啦", "吧", "的")
        ):
            continue
        j = k - 1
        while j >= 0 and (j in in_item or tokens[j] in _POST_NEG_GLUE):
            if j in in_item:
                out.add(j)
            j -= 1
    return out


_SKIN_NOUNS = frozenset({"skin", "complexion", "skintone"})
_SKIN_ADJECTIVES = {"pale": "fair", "fair": "fair", "porcelain": "fair", "light": "light",
                    "medium": "medium", "olive": "olive", "tan": "tan", "tanned": "tan",
                    "brown": "tan", "dark": "deep", "deep": "deep"}  # fmt: skip


def _skin_predicate(tokens: list[str]) -> str:
    """A skin depth said as a predicate: "my skin is pretty pale" -> "fair", "I'm tan"."""
    for k, tok in enumerate(tokens):
        if tok in ("i'm", "im") or (tok == "am" and k and tokens[k - 1] == "i"):
            nxt = tokens[k + 1 : k + 3]
            intensifier = nxt[:1] in (["very"], ["pretty"], ["quite"], ["really"])
            adj = nxt[1] if intensifier and len(nxt) > 1 else (nxt[0] if nxt else "")
            if adj in _SKIN_ADJECTIVES and adj != "light":
                return _SKIN_ADJECTIVES[adj]
        if tok in _SKIN_NOUNS:
            for nxt in tokens[k + 1 : k + 6]:
                if nxt in _BREAKERS:
                    break
                if nxt in _SKIN_ADJECTIVES:
                    return _SKIN_ADJECTIVES[nxt]
    return ""


def _resolve(items: list[_Item]) -> list[_Item]:
    """One meaning per span where words are ambiguous: a modifier is one only before a colour
    ("light pink"), else its other sense ("something light" -> natural); "olive" next to skin
    is skin, not the CSS colour."""
    spans: list[list[_Item]] = []
    for item in items:
        if spans and (spans[-1][0].start, spans[-1][0].end) == (item.start, item.end):
            spans[-1].append(item)
        else:
            spans.append([item])
    out: list[_Item] = []
    for si, group in enumerate(spans):
        kinds = {it.meaning.kind for it in group}
        if "skin" in kinds:
            group = [it for it in group if it.meaning.kind == "skin"]
        elif "modifier" in kinds:
            nxt = spans[si + 1] if si + 1 < len(spans) else []
            before_colour = (
                bool(nxt)
                and nxt[0].start == group[0].end
                and any(it.meaning.kind in ("colour", "modifier") for it in nxt)
            )
            group = [it for it in group if (it.meaning.kind == "modifier") == before_colour]
        out += group
    return out


def _prepare_tokens(text: str) -> list[str]:
    index = _get_index()
    out: list[str] = []
    for tok in index.tokenize(text.lower()):
        if _CJK_CHAR.match(tok) and len(tok) > 1 and (tok,) not in index.phrases:
            split = index.split_unknown_cjk(tok)
            if split:
                out += split
                continue
        out.append(_correct(tok) if tok.isascii() and tok.isalpha() else tok)
    return out


def _adjust_colour(hex_colour: str, modifiers: list[str]) -> str:
    if not modifiers:
        return hex_colour
    lab_l, lab_a, lab_b = (float(v) for v in hex_to_lab(hex_colour))
    c, h = math.hypot(lab_a, lab_b), math.atan2(lab_b, lab_a)
    for m in modifiers:
        dl, cf, dh = MODIFIERS[m]
        lab_l = min(98.0, max(3.0, lab_l + dl))
        c *= cf
        h += math.radians(dh)
    return lab_to_hex((lab_l, c * math.cos(h), c * math.sin(h)))


def _family(hex_colour: str, base_family: str, categories: tuple[str, ...]) -> str:
    lab = tuple(float(v) for v in hex_to_lab(hex_colour))
    if categories and categories[0] in DEPTH_CATEGORIES:
        return colour_family(categories[0], lab)  # type: ignore[arg-type]
    if base_family:
        return base_family
    cat = next((c for c in categories if c not in DEPTH_CATEGORIES), "lipstick")
    return colour_family(cat, lab)  # type: ignore[arg-type]


def _price(tokens: list[str], language: str, consumed: set[int]) -> tuple[int | None, str]:
    """The first price cap in the tokens: (USD cents, "USD" | "CNY") or (None, "")."""
    cap_words = {tuple(_get_index().tokenize(w)) for w in lx.PRICE_CAP_WORDS}
    for k, tok in enumerate(tokens):
        if not _NUMBER.match(tok):
            continue
        value = float(tok)
        j = k
        # a range "20-30" / "100到200": the upper end
        if k + 2 < len(tokens) and tokens[k + 1] in _RANGE and _NUMBER.match(tokens[k + 2]):
            value, j = float(tokens[k + 2]), k + 2
        before = tokens[max(0, k - 1)] if k else ""
        before2 = tokens[k - 2] if k >= 2 else ""
        after = tokens[j + 1] if j + 1 < len(tokens) else ""
        currency = ""
        if before in _USD_BEFORE or after in _USD_AFTER or (before == "$" or before2 == "us"):
            currency = "USD"
        elif before in _CNY_BEFORE or after in _CNY_AFTER:
            currency = "CNY"
        window = tokens[max(0, k - 4) : k] + tokens[j + 1 : j + 4]
        has_cap = any(
            tuple(window[a : a + ln]) in cap_words for a in range(len(window)) for ln in (1, 2, 3)
        )
        if not currency and not has_cap:
            continue
        if not currency:
            currency = "CNY" if language == "zh" else "USD"
        if value <= 0 or value > 1_000_000:
            continue
        consumed.update(range(max(0, k - 1), min(len(tokens), j + 2)))
        minor = value * 100 if currency == "USD" else value / lx.CNY_PER_USD * 100
        return round(minor), currency
    return None, ""


def parse(message: str, brands: Sequence[str] = ()) -> ParseResult:
    """One shopper message -> what it asks for (see slots.py). Never raises on any str."""
    if not isinstance(message, str):
        message = str(message or "")
    text = _clean(message)
    language = detect_language(text)
    tokens = _prepare_tokens(text)
    brand_phrases, spelling = _brand_phrases(tuple(brands))
    items = _match(tokens, brand_phrases)

    categories: list[str] = []
    implied_finish = ""
    colour_hex = colour_name = base_family = ""
    finish = ""
    excluded_finishes: list[str] = []
    occasion = intensity = ""
    wanted_brands: list[str] = []
    excluded_brands: list[str] = []
    adjustments: list[str] = []
    skin_words: list[str] = []
    undertone = ""
    flags: set[str] = set()
    consumed: set[int] = set()

    neg_start, neg_until = -1, -1  # a negation covers tokens [neg_start, neg_until)
    neg_degree = False  # the negation is "not too ..." (a degree, not a refusal)
    pending_mods: list[_Item] = []
    breaks = [i for i, t in enumerate(tokens) if t in _BREAKERS]
    resolved = _resolve(items)
    in_item = {k for it in resolved for k in range(it.start, it.end)}
    post_negated = _post_negated(tokens, in_item)

    def negated(pos: int) -> bool:
        return neg_start <= pos < neg_until

    def end_target(item: _Item) -> None:
        """A negation covers its first target and what a conjunction adds to it ("no shimmer or
        glitter", "不要珠光、亮片"), not the rest of the sentence ("别太红的口红")."""
        nonlocal neg_close
        neg_close = item.end  # the other meanings of this span are negated too ("no gloss")

    neg_close = -1
    too_at = -1
    for item in resolved:
        kind, value = item.meaning.kind, item.meaning.value
        consumed.update(range(item.start, item.end))
        if 0 <= neg_close <= item.start:
            if neg_close < len(tokens) and tokens[neg_close] in _CONJUNCTIONS:
                neg_start, neg_until = neg_close + 1, neg_close + 3
            else:
                neg_start = neg_until = -1
            neg_close = -1
        if neg_until > item.start and (
            any(neg_start <= b < item.start for b in breaks)
            or any(
                k not in in_item and tokens[k] not in _NEG_FILLERS
                for k in range(neg_start, item.start)
            )
        ):
            # a breaker ("," "but" "但") or a content word ("不拔干的哑光") ends the scope
            neg_start = neg_until = -1
        if kind == "neg":
            neg_start, neg_until = item.end, item.end + lx.NEGATION_SCOPE_TOKENS
            neg_degree = "太" in item.text or "too" in item.text.split()
            continue
        if kind == "degree":
            if negated(item.start) and item.text in ("too", "太", "overly", "过于", "so", "那么"):
                neg_degree = True
            elif item.text in _TOO:
                too_at = item.end  # "too loud", "太艳了": a complaint, asking for less
            continue
        if item.start == too_at and kind in ("intensity", "colour", "modifier"):
            if kind != "intensity" or value == "bold":
                intensity = intensity or "natural"
            too_at = -1
            continue
        if kind == "modifier":
            pending_mods.append(item)  # _resolve kept it: a colour follows
            continue
        if kind == "colour":
            mods = [m.meaning.value for m in pending_mods]
            start = pending_mods[0].start if pending_mods else item.start
            neg = negated(start) or item.start in post_negated
            names = [m.text for m in pending_mods] + [item.text]
            pending_mods.clear()
            if neg:
                if neg_degree and not intensity:  # "别太红" / "not too red": a softer colour
                    intensity = "natural"
                end_target(item)
                continue
            if not colour_hex:
                hx, fam = _get_index().colours[value]
                colour_hex = _adjust_colour(hx, mods)
                joiner = "" if _CJK_CHAR.search(item.text) else " "
                colour_name = joiner.join(names)
                base_family = fam if not mods or fam else ""
            continue
        neg = negated(item.start) or item.start in post_negated
        if neg and kind in ("category", "finish", "intensity", "brand"):
            end_target(item)
        pending_mods.clear()
        if kind == "category":
            if neg:
                continue
            if value not in categories:
                categories.append(value)
            implied_finish = implied_finish or item.meaning.extra
        elif kind == "finish":
            if neg:
                if value not in excluded_finishes:
                    excluded_finishes.append(value)
            elif not finish:
                finish = value
        elif kind == "intensity":
            if neg:
                intensity = intensity or lx.NEGATED_INTENSITY.get(value, "")
            elif not intensity:
                intensity = value
        elif kind == "occasion":
            occasion = occasion or value
        elif kind == "adjustment":
            if value not in adjustments:
                adjustments.append(value)
        elif kind == "brand":
            name = _catalog_spelling(value, spelling)
            target = excluded_brands if neg else wanted_brands
            if name not in target:
                target.append(name)
        elif kind == "skin":
            depth, tone = lx.SKIN_WORDS[value]
            if depth and depth not in skin_words:
                skin_words.append(depth)
            undertone = undertone or tone
            flags.add("skin")
        elif kind == "makeup":
            flags.add("look" if item.text in lx.LOOK_WORDS else "makeup")
        elif kind in ("greeting", "oos", "cheap", "another", "marker", "captword", "otherbrand"):
            flags.add(kind)

    # hex colours written as such
    for k, tok in enumerate(tokens):
        if _HEX.match(tok):
            consumed.add(k)
            if not colour_hex:
                colour_hex, colour_name = tok, tok
            break

    if not skin_words:  # "my skin is pretty pale", "I'm tan"
        depth = _skin_predicate(tokens)
        if depth:
            skin_words.append(depth)
            if colour_name in _SKIN_ADJECTIVES:  # "tan" was the skin, not a colour
                colour_hex = colour_name = base_family = ""
    max_price, currency = _price(tokens, language, consumed)
    if max_price is None and "cheap" in flags and "cheaper" not in adjustments:
        max_price = lx.CHEAP_CAP_MINOR
    if finish in excluded_finishes:
        finish = ""
    if not finish and implied_finish and implied_finish not in excluded_finishes:
        finish = implied_finish
    wanted_brands = [b for b in wanted_brands if b not in excluded_brands]
    colour_family_ = _family(colour_hex, base_family, tuple(categories)) if colour_hex else ""

    content = bool(
        categories
        or colour_hex
        or finish
        or excluded_finishes
        or occasion
        or intensity
        or max_price is not None
        or wanted_brands
        or excluded_brands
        or adjustments
        or flags & {"makeup", "look", "another", "skin", "otherbrand"}
    )
    free_words = tuple(
        t
        for k, t in enumerate(tokens)
        if k not in consumed
        and t not in _STOP
        and (t.isalnum() or _CJK_CHAR.match(t))
        and not _NUMBER.match(t)
    )[:MAX_FREE_WORDS]

    if "oos" in flags or not content:
        greeting = "greeting" in flags and "oos" not in flags
        slots = Slots(language=language, out_of_scope=not greeting, greeting_only=greeting)
        return ParseResult(slots=slots, is_follow_up=False, tokens=tuple(tokens))

    # No category named: the message refines the last request ("cheaper", "换个哑光的", "for a
    # wedding?"), unless it asks for a look of its own ("a natural office look", "约会妆").
    is_follow_up = not categories and not (occasion and "look" in flags)
    changes = (
        colour_hex
        or finish
        or excluded_finishes
        or intensity
        or adjustments
        or max_price is not None
        or wanted_brands
        or excluded_brands
    )
    if "another" in flags and not changes and not categories and "otherbrand" not in flags:
        adjustments.append("another")  # "something else" / "换一个": nothing else changes

    slots = Slots(
        language=language,
        categories=tuple(categories),
        colour_hex=colour_hex,
        colour_name=colour_name,
        colour_family=colour_family_,
        finish=finish,
        excluded_finishes=tuple(excluded_finishes),
        occasion=occasion,
        intensity=intensity,
        max_price_minor=max_price,
        price_currency_said=currency,
        brands=tuple(wanted_brands),
        excluded_brands=tuple(excluded_brands),
        adjustments=tuple(adjustments),
        skin_words=tuple(skin_words),
        undertone=undertone,
        free_words=free_words,
    )
    return ParseResult(
        slots=slots, is_follow_up=is_follow_up, tokens=tuple(tokens),
        other_brand="otherbrand" in flags,
    )  # fmt: skip
