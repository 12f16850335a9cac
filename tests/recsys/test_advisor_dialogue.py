"""The advisor's dialogue: follow-ups refine the running request, new requests replace it,
greetings and out-of-scope turns are answered alone, and the history is bounded."""

from __future__ import annotations

from services.common.color import hex_to_lab
from services.recsys.advisor.dialogue import HISTORY_CHAR_BUDGET, MAX_TURNS, understand
from services.recsys.advisor.lexicon import LOOK_TEMPLATES
from tests.recsys.advisor_eval import EVAL_BRANDS

DATE_LIP = "想要一支适合约会的豆沙色口红，不要太亮"


def user(*texts: str) -> list[tuple[str, str]]:
    return [("user", t) for t in texts]


def test_change_of_finish_keeps_the_request() -> None:
    s = understand("换个哑光的", user(DATE_LIP), EVAL_BRANDS)
    assert s.categories == ("lipstick",) and s.finish == "matte"
    assert (s.colour_family, s.occasion, s.intensity, s.language) == (
        "nude",
        "date",
        "natural",
        "zh",
    )
    assert s.adjustments == ()


def test_adjustments_are_this_turns_and_earlier_ones_are_baked_in() -> None:
    first = understand("brick red matte lipstick under $20", (), EVAL_BRANDS)
    cheaper = understand("cheaper", user("brick red matte lipstick under $20"), EVAL_BRANDS)
    assert cheaper.adjustments == ("cheaper",) and cheaper.max_price_minor == 2000
    assert cheaper.colour_hex == first.colour_hex and cheaper.finish == "matte"
    # "a bit lighter" two turns ago: its colour is kept, lighter, and it is not re-applied
    s = understand(
        "cheaper", user("brick red matte lipstick under $20", "a bit lighter"), EVAL_BRANDS
    )
    assert s.adjustments == ("cheaper",)
    assert hex_to_lab(s.colour_hex)[0] > hex_to_lab(first.colour_hex)[0] + 3
    # an earlier "cheaper" lowered the cap
    s = understand("darker", user("brick red matte lipstick under $20", "cheaper"), EVAL_BRANDS)
    assert s.adjustments == ("darker",) and s.max_price_minor is not None
    assert s.max_price_minor < 2000


def test_new_request_replaces_but_keeps_the_skin() -> None:
    s = understand(
        "pink blush",
        user("I have olive skin and warm undertones", "red matte lipstick"),
        EVAL_BRANDS,
    )
    assert s.categories == ("blush",) and s.colour_family == "pink" and s.finish == ""
    assert s.skin_words == ("olive",) and s.undertone == "warm"


def test_brand_follow_ups() -> None:
    s = understand("what about Chanel?", user("red lipstick from Dior"), EVAL_BRANDS)
    assert s.brands == ("Chanel",) and s.categories == ("lipstick",)
    s = understand("不要迪奥", user("迪奥的正红色口红"), EVAL_BRANDS)
    assert s.brands == () and s.excluded_brands == ("Dior",)


def test_greeting_and_out_of_scope_turns() -> None:
    s = understand("谢谢", user("豆沙色口红"), EVAL_BRANDS)
    assert s.greeting_only and not s.categories
    s = understand("where's my package?", user("red lipstick"), EVAL_BRANDS)
    assert s.out_of_scope and not s.categories
    # and they do not break the conversation
    s = understand("cheaper", user("red lipstick", "where's my package?", "hi"), EVAL_BRANDS)
    assert s.categories == ("lipstick",) and s.adjustments == ("cheaper",)


def test_advisor_turns_are_not_parsed() -> None:
    history = [("user", "red lipstick"), ("assistant", "Here are three matte nude blushes")]
    s = understand("cheaper", history, EVAL_BRANDS)
    assert s.categories == ("lipstick",) and s.finish == "" and s.colour_family == "red"


def test_occasion_look_is_expanded_unless_asked_not_to() -> None:
    message = "a natural office look for olive skin, nothing shimmery"
    s = understand(message, (), EVAL_BRANDS)
    assert s.categories == LOOK_TEMPLATES["office"].categories
    assert s.excluded_finishes == ("shimmer",) and s.intensity == "natural"
    assert understand(message, (), EVAL_BRANDS, look=False).categories == ()


def test_emoji_answer_keeps_the_language() -> None:
    s = understand("👍", user("豆沙色口红"), EVAL_BRANDS)
    assert s.language == "zh"


def test_history_is_bounded() -> None:
    long_turn = "想要一支豆沙色口红" * 300
    history = user(*(["red lipstick"] + [long_turn] * 3 + ["lighter"] * (MAX_TURNS + 10)))
    s = understand("cheaper", history, EVAL_BRANDS)
    assert s.adjustments == ("cheaper",)
    # the red lipstick was more than MAX_TURNS turns ago: forgotten
    assert s.colour_family != "red"
    assert HISTORY_CHAR_BUDGET >= 2000
    # junk in the history does not crash it
    junk = [("user", None), ("user", "💄" * 3000), (None, "hi"), ("user", "\x00" * 100)]
    assert understand("red lipstick", junk, EVAL_BRANDS).categories == ("lipstick",)  # type: ignore[arg-type]


def test_another_brand_and_complaints() -> None:
    s = understand("换个牌子", user("迪奥正红色口红"), EVAL_BRANDS)
    assert s.brands == () and s.excluded_brands == ("Dior",) and s.colour_family == "red"
    s = understand("orange is too loud for me", user("orange lipstick"), EVAL_BRANDS)
    assert s.intensity == "natural" and s.categories == ("lipstick",)
    s = understand("这个颜色太艳了", user("玫红色口红"), EVAL_BRANDS)
    assert s.intensity == "natural" and s.colour_family == "pink"
    s = understand("要珠光少一点的", user("金色眼影"), EVAL_BRANDS)
    assert s.excluded_finishes == ("shimmer",) and s.finish == ""
