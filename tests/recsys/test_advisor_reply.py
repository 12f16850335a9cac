"""The advisor's reply: in the shopper's language, naming the products and why, polite when it
cannot help, and saying what to relax when nothing fits."""

from __future__ import annotations

import re

from services.recsys.advisor.dialogue import understand
from services.recsys.advisor.reply import ProductSummary, reply
from services.recsys.advisor.slots import Slots
from tests.recsys.advisor_eval import EVAL_BRANDS

CJK = re.compile(r"[\u4e00-\u9fff]")
PICKS = [
    ProductSummary(
        "Dior", "Rouge Dior", "720 Icône", "lipstick", "#b6797a", 4200, 3.2, "适合暖调肤色"
    ),
    ProductSummary("Givenchy", "Le Rouge", "304", "lipstick", "#b07070", None, 5.9, "人气之选"),
    ProductSummary(
        "Maybelline", "Color Sensational", "Nude Nuance", "lipstick", "#c09080", 999, None, ""
    ),
    ProductSummary("Chanel", "Rouge Allure", "Fourth", "lipstick", "#a07070", 4500, 7.0, ""),
]


def test_chinese_request_gets_a_chinese_answer_with_products() -> None:
    slots = understand("想要一支适合约会的豆沙色口红，不要太亮", (), EVAL_BRANDS)
    text = reply(slots, PICKS, has_face=True, skin="warm")
    assert len(CJK.findall(text)) > 20
    assert "豆沙色" in text and "约会" in text and "口红" in text
    assert "Rouge Dior" in text and "720 Icône" in text and "适合暖调肤色" in text
    assert "ΔE 3.2" in text and "暖调" in text
    assert "Rouge Allure" not in text  # the top three only
    assert "浅一点" in text  # what to say next


def test_english_request_gets_an_english_answer() -> None:
    slots = understand("brick red matte lipstick under $20", (), EVAL_BRANDS)
    picks = [
        ProductSummary(
            "NYX", "Suede Matte Lipstick", "Cabo", "lipstick", "#a23b2c", 799, 2.1, "popular pick"
        )
    ]
    text = reply(slots, picks, has_face=False, skin=None)
    assert not CJK.search(text)
    assert "brick red" in text and "matte" in text and "$20" in text
    assert "NYX Suede Matte Lipstick Cabo" in text and "$7.99" in text and "popular pick" in text
    assert "ΔE 2.1 from brick red" in text


def test_out_of_scope_is_a_polite_cant_help_in_the_language() -> None:
    en = reply(understand("where is my order?", ()), [], False, None)
    assert "Sorry" in en and "makeup" in en and not CJK.search(en)
    zh = reply(understand("今天天气怎么样", ()), [], False, None)
    assert "抱歉" in zh and "彩妆" in zh
    # even if products were passed, an out-of-scope answer names none
    assert "Rouge Dior" not in reply(Slots(out_of_scope=True), PICKS, False, None)


def test_greeting() -> None:
    assert "beauty advisor" in reply(understand("hi", ()), [], False, None)
    assert "美妆顾问" in reply(understand("你好", ()), [], False, None)


def test_nothing_found_names_the_tight_constraint() -> None:
    slots = understand("Chanel lipstick under $5", (), EVAL_BRANDS)
    text = reply(slots, [], False, None)
    assert "Chanel" in text and "brand" in text
    slots = understand("150元以内的哑光腮红", (), EVAL_BRANDS)
    text = reply(slots, [], False, None)
    assert "¥150" in text and "预算" in text


def test_look_reply_lists_categories() -> None:
    slots = understand("a natural office look for olive skin, nothing shimmery", (), EVAL_BRANDS)
    text = reply(slots, PICKS[:2], has_face=False, skin=None)
    assert "the office" in text and "nothing shimmer" in text and "Rouge Dior" in text
