"""tryon.catalog_import without a server: the CSV and JSON parsers and the client-side checks
(the server's rules), the batching and the bisection of refused batches (a fake upsert)."""

from __future__ import annotations

import json
from pathlib import Path

import grpc
import pytest

from tryon import catalog_import as ci
from tryon.cli import main
from tryon.v1 import catalog_service_pb2 as cpb
from tryon.v1 import types_pb2

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog_import"
HEADER = "product_id,brand,name,category,price,shade_id,hex\n"

# partner.csv: the lines rejected and a word of each reason.
EXPECTED_REJECTED = {
    7: "'#12345' is not #rrggbb",
    8: "category 'lip_paint' is not one of",
    9: "finish 'glitter' is not one of",
    10: "disagree on price",
    11: "disagree on price",
    12: "shade_id 's1' of 'zz-imp-dup-shade' is also on line 13",
    13: "is also on line 12",
    14: "price -5 must be >= 0",
    15: "has 5 cells, the header 13",
    16: "not imported: product 'zz-imp-partial' has an invalid row (line 17)",
    17: "'#zzzzzz' is not #rrggbb",
    18: "opacity 1.5 must be between 0 and 1",
}


def test_partner_csv_good_products_and_every_bad_row_with_its_line() -> None:
    parsed = ci.load(DATA / "partner.csv")
    assert parsed.format == "csv" and parsed.rows == 17
    by_id = {p.product_id: p for p in parsed.products}
    assert sorted(by_id) == ["zz-imp-glow-blush", "zz-imp-skin-tint", "zz-imp-velvet-lip"]
    assert parsed.origins["zz-imp-velvet-lip"] == [2, 3]
    lip = by_id["zz-imp-velvet-lip"]
    assert lip.category == types_pb2.PRODUCT_CATEGORY_LIPSTICK
    assert lip.price == types_pb2.Money(currency="USD", amount_minor=1850)  # 18.50 == 18.5
    assert [(s.shade_id, s.name, s.hex, s.finish) for s in lip.shades] == [
        ("101", "Brick", "#A0522D", types_pb2.FINISH_MATTE),
        ("102", "Rose", "#c08081", types_pb2.FINISH_SATIN),
    ]
    assert lip.shades[0].opacity == pytest.approx(0.9) and lip.shades[1].opacity == 0
    blush = by_id["zz-imp-glow-blush"]
    assert blush.price == types_pb2.Money(currency="EUR", amount_minor=2400)
    assert blush.swatch_uri == "https://cdn.acme.example/glow.png"
    tint = by_id["zz-imp-skin-tint"]  # quoted comma in the name; category in any case
    assert tint.name == "Skin Tint, Dewy" and tint.category == types_pb2.PRODUCT_CATEGORY_FOUNDATION
    assert tint.shades[0].finish == types_pb2.FINISH_UNSPECIFIED  # the server's satin
    assert tint.shades[0].coverage == pytest.approx(0.4)
    got = {r.line: r.reason for r in parsed.rejected}
    assert sorted(got) == sorted(EXPECTED_REJECTED)
    for line, words in EXPECTED_REJECTED.items():
        assert words in got[line], (line, got[line])
    assert all(ci.validate_product(p) == [] for p in parsed.products)


def test_partner_json() -> None:
    parsed = ci.load(DATA / "partner.json")
    assert parsed.format == "json" and parsed.rows == 3
    assert [p.product_id for p in parsed.products] == ["zz-imp-json-gloss", "zz-imp-json-liner"]
    liner = parsed.products[1]
    assert liner.price == types_pb2.Money(currency="USD", amount_minor=1200)
    assert liner.shades[0].name == "black"  # no name: the shade id
    [bad] = parsed.rejected
    assert bad.index == 2 and bad.product_id == "zz-imp-json-bad"
    assert "shades[0] finish 'glitter'" in bad.reason


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("p,B,N,lipstick,1,s,#aabbcc\n", None),
        (" p , B , N , LIPSTICK , 1.5 , s , #aabbcc \n", None),  # spaces around cells
        ("p,B,N,lipstick,1.005,s,#aabbcc\n", "more than 2 decimals for USD"),
        ("p,B,N,lipstick,abc,s,#aabbcc\n", "price 'abc' is not a number"),
        ("p,B,N,lipstick,,s,#aabbcc\n", "price is empty"),
        ("p,,N,lipstick,1,s,#aabbcc\n", "brand must be 1..200 characters"),
        ("p,B,N,lipstick,1,,#aabbcc\n", "shade_id must be 1..64 characters"),
        ("p,B,N,lipstick,1,s,aabbcc\n", "hex 'aabbcc' is not #rrggbb"),
        ("p,B,N,lipstick,1,s,\n", "hex is empty"),
        ("p,B,N,,1,s,#aabbcc\n", "category is empty"),
        ("p,B," + "n" * 301 + ",lipstick,1,s,#aabbcc\n", "name must be 1..300 characters"),
        ("p" * 129 + ",B,N,lipstick,1,s,#aabbcc\n", "product_id must be 1..128 characters"),
        ("p,B,N,lipstick,1,s,#aabbcc,extra\n", "has 8 cells, the header 7"),
        (",B,N,lipstick,1,s,#aabbcc\n", "product_id is empty"),
    ],
)
def test_csv_rules(row: str, words: str | None) -> None:
    parsed = ci.parse_text(HEADER + row, "csv")
    if words is None:
        assert [r.reason for r in parsed.rejected] == [] and len(parsed.products) == 1
    else:
        [rejection] = parsed.rejected
        assert words in rejection.reason and rejection.line == 2
        assert parsed.products == []


def test_csv_optional_columns_and_currency_decimals() -> None:
    text = (
        "product_id,brand,name,category,price,currency,swatch_url,shade_id,shade_name,hex,"
        "finish,opacity,coverage\n"
        "a,B,N,blush,1500,JPY,,s,,#aabbcc,gloss,0.5,0.25\n"
        "b,B,N,blush,1.5,JPY,,s,,#aabbcc,,,\n"
        "c,B,N,blush,1,usd,,s,,#aabbcc,,,\n"
        "d,B,N,blush,1,,ftp://x/y.png,s,,#aabbcc,,,\n"
        "e,B,N,nail_polish,1,,,s,,#aabbcc,,-0.1,2\n"
    )
    parsed = ci.parse_text(text)
    [a] = parsed.products
    assert a.price == types_pb2.Money(currency="JPY", amount_minor=1500)
    assert a.shades[0].finish == types_pb2.FINISH_GLOSS and a.shades[0].coverage == 0.25
    reasons = {r.product_id: r.reason for r in parsed.rejected}
    assert "more than 0 decimals for JPY" in reasons["b"]
    assert "currency 'usd' is not a 3-letter ISO 4217 code" in reasons["c"]
    assert "swatch_url must be empty" in reasons["d"]
    assert "opacity -0.1 must be between 0 and 1" in reasons["e"]
    assert "coverage 2 must be between 0 and 1" in reasons["e"]


def test_csv_multiline_cell_keeps_line_numbers() -> None:
    text = HEADER + 'a,B,"two\nlines",lipstick,1,s,#aabbcc\nb,B,N,lipstick,1,s,#bad\n'
    parsed = ci.parse_text(text, "csv")
    assert [p.product_id for p in parsed.products] == ["a"]
    assert [(r.line, r.product_id) for r in parsed.rejected] == [(4, "b")]


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("", "empty"),
        ("hello world\nthis is not a catalog\n", "no column product_id"),
        (HEADER.replace("hex", "colour"), "no column hex; unknown column 'colour'"),
        (HEADER.strip() + ",opactiy\n", "unknown column 'opactiy'"),
        (HEADER.strip() + ",hex\n", "names hex more than once"),
        ('[{"product_id": "a",', "not valid JSON (line 1"),
        ('{"items": []}', "expected a JSON list of products"),
    ],
)
def test_unreadable_files(tmp_path: Path, text: str, words: str) -> None:
    path = tmp_path / ("f.json" if text[:1] in "[{" and text else "f.csv")
    path.write_text(text)
    with pytest.raises(ci.CatalogFileError) as err:
        ci.load(path)
    assert words in str(err.value)


def test_binary_file_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "catalog.csv"
    path.write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\xff\xfe garbage")
    with pytest.raises(ci.CatalogFileError, match="not UTF-8 text"):
        ci.load(path)
    with pytest.raises(ci.CatalogFileError, match="cannot read"):
        ci.load(tmp_path / "missing.csv")


def test_format_sniffed_without_extension(tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text((DATA / "partner.json").read_text())
    assert ci.load(tmp_path / "a.txt").format == "json"
    (tmp_path / "b.txt").write_text("\ufeff" + HEADER + "p,B,N,lipstick,1,s,#aabbcc\n")
    assert ci.load(tmp_path / "b.txt").format == "csv"


def test_json_rules() -> None:
    good = {"product_id": "a", "brand": "B", "name": "N", "category": "lipstick",
            "price": {"currency": "EUR", "amount": "9.99"},
            "shades": [{"shade_id": "s", "hex": "#aabbcc"}]}  # fmt: skip
    items = [
        good,
        {**good, "product_id": "b", "price": {"currency": "USD", "amount_minor": 250}},
        {**good, "product_id": "c", "colour": "red"},
        {**good, "product_id": "d", "shades": []},
        {**good, "product_id": "e", "shades": [{"shade_id": "s", "hex": "#aabbcc"}] * 2},
        {**good, "product_id": "f", "shades": [{"shade_id": "s", "hex": "#aabbcc\n"}]},
        {**good, "product_id": "g", "price": -1},
        {**good, "product_id": "h", "shades": [{"shade_id": "s", "hex": "#aabbcc", "opacity": 7}]},
        "not a product",
        {**good, "product_id": "i"},
        {**good, "product_id": "i"},
        {**good, "product_id": " j"},
    ]
    parsed = ci.parse_text(json.dumps(items))
    assert [p.product_id for p in parsed.products] == ["a", "b"]
    assert parsed.products[0].price == types_pb2.Money(currency="EUR", amount_minor=999)
    assert parsed.products[1].price.amount_minor == 250
    reasons = {r.index: r.reason for r in parsed.rejected}
    assert "unknown field 'colour'" in reasons[2]
    assert "has 0 shades" in reasons[3]
    assert "shade_id 's' repeats" in reasons[4]
    assert "is not #rrggbb" in reasons[5]
    assert "price -1 must be >= 0" in reasons[6]
    assert "opacity 7 must be between 0 and 1" in reasons[7]
    assert "expected a product object" in reasons[8]
    assert "appears more than once (products[9], products[10])" in reasons[9] == reasons[10]
    assert "has leading or trailing spaces" in reasons[11]


def _product(i: int) -> types_pb2.Product:
    return types_pb2.Product(
        product_id=f"p{i}", brand="B", name="N", category=types_pb2.PRODUCT_CATEGORY_BLUSH,
        shades=[types_pb2.Shade(shade_id="s", hex="#aabbcc")],
    )  # fmt: skip


class _Refused(grpc.RpcError):
    def __init__(self, code: grpc.StatusCode, details: str) -> None:
        self._code, self._details = code, details

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details


def test_batches_and_bisection_isolate_refused_products() -> None:
    products = [_product(i) for i in range(23)]
    refused = {"p3", "p17", "p18"}
    calls: list[int] = []

    def upsert(batch: list[types_pb2.Product]) -> cpb.UpsertProductsResponse:
        calls.append(len(batch))
        assert len(batch) <= 10
        bad = [p.product_id for p in batch if p.product_id in refused]
        if bad:
            raise _Refused(grpc.StatusCode.INVALID_ARGUMENT,
                           f"nothing was written: products[0] {bad[0]} is wrong")  # fmt: skip
        return cpb.UpsertProductsResponse(created=len(batch) - 1, updated=1)

    parsed = ci.ParsedCatalog("json", 23, products, {p.product_id: [i] for i, p in
                              enumerate(products)}, [], 23)  # fmt: skip
    report = ci.new_report(parsed, "x.json")
    ci.upsert(upsert, parsed, report, batch_size=10)
    assert [(r.index, r.reason) for r in report.rejected] == [
        (3, "refused by the server: products[0] p3 is wrong"),
        (17, "refused by the server: products[0] p17 is wrong"),
        (18, "refused by the server: products[0] p18 is wrong"),
    ]
    assert report.upserted == 20 and report.calls == len(calls) > 3
    assert report.created + report.updated + report.unchanged == 20

    def unavailable(batch: list[types_pb2.Product]) -> cpb.UpsertProductsResponse:
        raise _Refused(grpc.StatusCode.UNAVAILABLE, "down")

    with pytest.raises(grpc.RpcError):  # not the data's fault: not turned into rejections
        ci.upsert(unavailable, parsed, ci.new_report(parsed, "x.json"))


def test_batches_capped_in_bytes() -> None:
    products = [_product(i) for i in range(10)]
    size = products[0].ByteSize()
    assert [len(b) for b in ci.batches(products, 500, max_bytes=size * 3)] == [3, 3, 3, 1]
    assert [len(b) for b in ci.batches(products, 4)] == [4, 4, 2]


def test_cli_dry_run_needs_no_server(capsys: pytest.CaptureFixture[str], monkeypatch) -> None:  # type: ignore[no-untyped-def]
    monkeypatch.delenv("TRYON_API_KEY", raising=False)
    assert main(["catalog", "import", str(DATA / "partner.csv"), "--dry-run", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)
    assert report["dry_run"] and report["valid"] == 3 and report["calls"] == 0
    assert sorted(r["line"] for r in report["rejected"]) == sorted(EXPECTED_REJECTED)
    assert main(["catalog", "import", str(DATA / "partner.json"), "--dry-run"]) == 1
    out = capsys.readouterr().out
    assert "dry run: 2 products would be upserted; nothing was sent" in out
    assert "products[2]" in out and "glitter" in out
