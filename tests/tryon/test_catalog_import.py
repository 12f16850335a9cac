"""`tryon catalog import` through the real stack (gateway, render worker, catalog database):
exactly the bad rows of a partner file are reported with their lines, the good products land
in the catalog, a second import changes nothing, JSON works too, --dry-run writes nothing, an
unreadable file exits 2, and a product only the server refuses is isolated by bisection."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from scripts.stack import Stack
from tests.conftest import API_KEYS
from tests.tryon.test_catalog_import_parse import EXPECTED_REJECTED
from tryon import Client
from tryon import catalog_import as ci
from tryon.cli import main
from tryon.v1 import types_pb2

DATA = Path(__file__).resolve().parents[1] / "data" / "catalog_import"
# Another tenant than the suite's usual one, and ids that sort last: other tests list the
# catalog and must not meet these products.
TENANT = "beta"


@pytest.fixture
def client(stack: Stack) -> Iterator[Client]:
    with Client(stack.grpc_addr, api_key=API_KEYS[TENANT]) as c:
        yield c


def fresh_copy(name: str, tmp_path: Path) -> tuple[Path, str]:
    """The sample file with product ids of its own, so every test starts from nothing."""
    prefix = f"zz-imp-{uuid.uuid4().hex[:8]}-"
    path = tmp_path / name
    path.write_text((DATA / name).read_text().replace("zz-imp-", prefix))
    return path, prefix


def run_cli(stack: Stack, capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    argv = ["--addr", stack.grpc_addr, "--api-key", API_KEYS[TENANT], "catalog", "import"]
    code = main([*argv, *args, "--json"])
    return code, json.loads(capsys.readouterr().out)


def exists(client: Client, product_id: str) -> bool:
    try:
        client.get_product(product_id)
    except grpc.RpcError as exc:
        assert exc.code() == grpc.StatusCode.NOT_FOUND, exc.details()
        return False
    return True


def test_csv_bad_rows_reported_good_products_imported_idempotent(
    stack, client, capsys, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    path, prefix = fresh_copy("partner.csv", tmp_path)
    code, report = run_cli(stack, capsys, str(path))
    assert code == 1, report
    got = {r["line"]: r["reason"] for r in report["rejected"]}
    assert sorted(got) == sorted(EXPECTED_REJECTED), got
    for line, words in EXPECTED_REJECTED.items():
        assert words.replace("zz-imp-", prefix) in got[line], (line, got[line])
    counts = [report[k] for k in ("valid", "upserted", "created", "updated")]
    assert counts == [3, 3, 3, 0]
    lip = client.get_product(f"{prefix}velvet-lip")
    assert (lip.brand, lip.name, lip.category) == ("Acme Beauty", "Velvet Lip",
                                                  types_pb2.PRODUCT_CATEGORY_LIPSTICK)  # fmt: skip
    assert lip.price == types_pb2.Money(currency="USD", amount_minor=1850)
    assert [(s.shade_id, s.name, s.hex, s.finish) for s in lip.shades] == [
        ("101", "Brick", "#a0522d", types_pb2.FINISH_MATTE),  # the catalog lowers hex
        ("102", "Rose", "#c08081", types_pb2.FINISH_SATIN),
    ]
    assert lip.shades[0].opacity == pytest.approx(0.9)
    assert lip.shades[1].opacity == pytest.approx(0.85)  # empty: the default
    blush = client.get_product(f"{prefix}glow-blush")
    assert blush.swatch_uri == "https://cdn.acme.example/glow.png"
    assert blush.price == types_pb2.Money(currency="EUR", amount_minor=2400)
    tint = client.get_product(f"{prefix}skin-tint")
    assert tint.name == "Skin Tint, Dewy" and tint.shades[1].coverage == pytest.approx(0.4)
    for bad in ("bad-hex", "conflict", "dup-shade", "partial", "short", "opaque"):
        assert not exists(client, f"{prefix}{bad}"), bad

    # The same file again: nothing created or rewritten, the same rows rejected.
    code, again = run_cli(stack, capsys, str(path))
    assert code == 1
    counts = [again[k] for k in ("upserted", "created", "updated", "unchanged")]
    assert counts == [3, 0, 0, 3]
    assert again["rejected"] == report["rejected"]

    # A changed shade: that product alone is updated.
    path.write_text(path.read_text().replace("#c08081", "#c08082"))
    code, changed = run_cli(stack, capsys, str(path))
    assert (changed["created"], changed["updated"], changed["unchanged"]) == (0, 1, 2)
    assert client.get_product(f"{prefix}velvet-lip").shades[1].hex == "#c08082"


def test_text_summary(stack, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, prefix = fresh_copy("partner.csv", tmp_path)
    argv = ["--addr", stack.grpc_addr, "--api-key", API_KEYS[TENANT], "catalog", "import"]
    assert main([*argv, str(path)]) == 1
    out = capsys.readouterr().out
    assert "17 rows, 12 products: 3 valid, 12 rows rejected" in out
    assert "upserted 3 products in 1 call(s): 3 created, 0 updated, 0 unchanged" in out
    assert re.search(rf"line 7 +{prefix}bad-hex: hex '#12345' is not #rrggbb", out), out


def test_json_file_and_clean_exit(stack, client, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, prefix = fresh_copy("partner.json", tmp_path)
    code, report = run_cli(stack, capsys, str(path))
    assert code == 1
    assert [(r["index"], r["product_id"]) for r in report["rejected"]] == [(2, f"{prefix}json-bad")]
    assert (report["created"], report["updated"]) == (2, 0)
    gloss = client.get_product(f"{prefix}json-gloss")
    assert [s.finish for s in gloss.shades] == [types_pb2.FINISH_GLOSS] * 2
    assert gloss.price == types_pb2.Money(currency="USD", amount_minor=1650)
    assert client.get_product(f"{prefix}json-liner").shades[0].name == "black"
    # Without the bad product: exit 0.
    doc = json.loads(path.read_text())
    doc["products"].pop()
    path.write_text(json.dumps(doc))
    code, report = run_cli(stack, capsys, str(path))
    assert code == 0 and report["rejected"] == [] and report["unchanged"] == 2


def test_dry_run_writes_nothing(stack, client, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    path, prefix = fresh_copy("partner.csv", tmp_path)
    code, report = run_cli(stack, capsys, str(path), "--dry-run")
    assert code == 1 and report["dry_run"] and report["valid"] == 3
    assert report["calls"] == report["upserted"] == 0
    assert not exists(client, f"{prefix}velvet-lip")


def test_unreadable_file_exits_2(stack, capsys, tmp_path) -> None:  # type: ignore[no-untyped-def]
    argv = ["--addr", stack.grpc_addr, "--api-key", API_KEYS[TENANT], "catalog", "import"]
    garbage = tmp_path / "catalog.csv"
    garbage.write_bytes(bytes(range(256)) * 4)
    assert main([*argv, str(garbage)]) == 2
    captured = capsys.readouterr()
    assert "not UTF-8 text" in captured.err and captured.out == ""
    prose = tmp_path / "notes.csv"
    prose.write_text("dear partner,\nplease find attached\n")
    assert main([*argv, str(prose)]) == 2
    assert "no column product_id" in capsys.readouterr().err
    assert main([*argv, str(tmp_path / "nowhere.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_products_only_the_server_refuses_are_isolated_by_bisection(
    stack, client, monkeypatch, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    # Pretend the client's hex check is missing: bad hex reaches the server, which refuses the
    # whole batch; bisection must find exactly those products and write all the others.
    monkeypatch.setattr(ci, "HEX", re.compile(r".+"))
    prefix = f"zz-imp-{uuid.uuid4().hex[:8]}-"
    lines = ["product_id,brand,name,category,price,shade_id,hex"]
    bad = {3, 11}
    for i in range(13):
        hex_ = "#nothex" if i in bad else f"#{i:02x}3040"
        lines.append(f"{prefix}p{i:02d},Acme Beauty,Lip {i},lipstick,10,s1,{hex_}")
    path = tmp_path / "sneaky.csv"
    path.write_text("\n".join(lines) + "\n")
    report = ci.import_catalog(client, path, batch_size=5)
    assert [(r.line, r.product_id) for r in report.rejected] == [
        (i + 2, f"{prefix}p{i:02d}") for i in sorted(bad)
    ]
    for r in report.rejected:
        assert r.reason.startswith("refused by the server: products[0].shades[0].hex"), r.reason
    assert report.upserted == report.created == 11
    assert report.calls > 3  # three batches, two of them bisected
    for i in range(13):
        assert exists(client, f"{prefix}p{i:02d}") == (i not in bad)
