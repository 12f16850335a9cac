"""The studio in a real browser: Debian's headless Chromium, driven by Selenium, its camera a
real clip (d0.mp4 as a fake capture device), on the real stack (web -> gateway -> workers).

Each state is saved as a screenshot under out/web/ (they are the product: look at them)."""

from __future__ import annotations

import base64
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import Select, WebDriverWait
from sqlalchemy import create_engine, text

from face_topology import LIPS_INNER_LOOP, LIPS_OUTER_LOOP
from scripts.stack import Stack
from services.common.color import ciede2000, hex_to_lab, srgb_to_lab
from services.recon import FaceLandmarker, create_runtime
from tests.conftest import TEST_DATA
from tests.web.conftest import PartnerSite, console_errors, http, screenshot

SHOPPER = "web-e2e-shopper"
Shade = tuple[str, str, str]  # product_id, shade_id, hex


@pytest.fixture(scope="module")
def landmarker() -> FaceLandmarker:
    return FaceLandmarker(create_runtime())


@pytest.fixture(scope="module")
def two_lipsticks(stack: Stack, studio_key: str) -> tuple[Shade, Shade]:
    """Two (product_id, shade_id, hex) on the studio's first lipstick page, far apart in
    colour: the reddest, and the shade farthest from it."""
    products = http(stack, "/api/v1/products?category=lipstick&page_size=60", key=studio_key)
    shades = [(p["product_id"], s["shade_id"], s["hex"])
              for p in products.json()["products"] for s in p["shades"]]  # fmt: skip
    labs = hex_to_lab([s[2] for s in shades])
    red = int(np.argmax(labs[:, 1] - np.abs(labs[:, 2] - 30)))
    far = int(np.argmax(ciede2000(labs, labs[red][None, :])))
    return shades[red], shades[far]


def open_studio(driver, stack: Stack, key: str, **params: str) -> None:  # type: ignore[no-untyped-def]
    query = "&".join([f"key={key}", *(f"{k}={v}" for k, v in params.items())])
    driver.get(f"{stack.web_url}/studio?{query}")
    driver.get_log("browser")  # start each page with an empty console log


def wait_js(driver, script: str, timeout: float = 30, what: str = "") -> object:  # type: ignore[no-untyped-def]
    return WebDriverWait(driver, timeout).until(
        lambda d: d.execute_script(script), message=what or script
    )


def stats(driver) -> dict:  # type: ignore[no-untyped-def,type-arg]
    return driver.execute_script("return window.tryonStats")  # type: ignore[no-any-return]


def canvas_rgb(driver) -> np.ndarray:  # type: ignore[no-untyped-def]
    url = driver.execute_script("return document.getElementById('view').toDataURL('image/png')")
    data = base64.b64decode(url.split(",", 1)[1])
    return cv2.cvtColor(cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR),
                        cv2.COLOR_BGR2RGB)  # fmt: skip


def lips_lab(landmarker: FaceLandmarker, rgb: np.ndarray) -> np.ndarray | None:
    """Mean CIELAB of the lips (outer contour minus the mouth opening, eroded)."""
    faces = landmarker.detect(rgb, max_faces=1)
    if not faces:
        return None
    marks = faces[0].landmarks

    def polygon(loop: tuple[int, ...]) -> np.ndarray:
        mask = np.zeros(rgb.shape[:2], np.uint8)
        cv2.fillPoly(mask, [np.round(marks[list(loop), :2]).astype(np.int32)], 1)
        return mask

    ring = cv2.erode(polygon(LIPS_OUTER_LOOP), np.ones((3, 3), np.uint8)) & (
        1 - cv2.dilate(polygon(LIPS_INNER_LOOP), np.ones((3, 3), np.uint8))
    )
    if ring.sum() < 30:
        return None
    return srgb_to_lab(rgb[ring.astype(bool)]).mean(axis=0)  # type: ignore[no-any-return]


def choose_shade(driver, category: str, product_id: str, shade_id: str) -> None:  # type: ignore[no-untyped-def]
    """Through the page, as a shopper does: category, product card, shade chip."""
    select = Select(driver.find_element(By.ID, "category"))
    if select.first_selected_option.get_attribute("value") != category:
        select.select_by_value(category)
    card = f'#products [data-product-id="{product_id}"]'
    click(driver, f"{card} button, {card}", f"product card {product_id}")
    click(driver, f'#shades [data-shade-id="{shade_id}"]', f"shade chip {shade_id}")


def click(driver, css: str, what: str, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    """Clicks the first element matching `css`, again if the page re-rendered it meanwhile."""

    def attempt(d) -> bool:  # type: ignore[no-untyped-def]
        try:
            found = d.find_elements(By.CSS_SELECTOR, css)
            if not found:
                return False
            d.execute_script("arguments[0].scrollIntoView({block: 'center'})", found[0])
            found[0].click()
            return True
        except StaleElementReferenceException:
            return False

    WebDriverWait(driver, timeout).until(attempt, message=what)


def wait_lips(driver, landmarker: FaceLandmarker, close_to: Callable[[np.ndarray], bool],  # type: ignore[no-untyped-def]
              frames: int, what: str) -> np.ndarray:
    """Grabs the live view until the lips satisfy `close_to`, within `frames` more replies."""
    start = stats(driver)["framesReceived"]
    last = None
    while stats(driver)["framesReceived"] - start <= frames:
        lab = lips_lab(landmarker, canvas_rgb(driver))
        if lab is not None:
            last = lab
            if close_to(lab):
                return lab
        time.sleep(0.05)
    raise AssertionError(f"{what}: lips at {last} after {frames} frames")


def test_the_live_view_wears_the_chosen_shade_and_follows_a_change(
    browser, stack: Stack, studio_key: str, landmarker: FaceLandmarker, two_lipsticks  # type: ignore[no-untyped-def]
) -> None:
    driver = browser
    open_studio(driver, stack, studio_key, lang="en", autostart="1")
    wait_js(driver, "return window.tryonStats && window.tryonStats.framesReceived > 10", 60,
            "made-up frames from the fake camera")  # fmt: skip
    assert stats(driver)["mode"] == "live"
    bare = lips_lab(landmarker, canvas_rgb(driver))
    assert bare is not None, "no face in the live view"
    screenshot(driver, "live-bare")

    (pa, sa, hex_a), (pb, sb, hex_b) = two_lipsticks
    lab_a, lab_b = hex_to_lab(hex_a), hex_to_lab(hex_b)
    bare_to_a = float(ciede2000(bare, lab_a))
    choose_shade(driver, "lipstick", pa, sa)
    worn_a = wait_lips(
        driver, landmarker, lambda lab: float(ciede2000(lab, lab_a)) < bare_to_a - 8, 60,
        f"the lips never moved toward {hex_a}",
    )  # fmt: skip
    screenshot(driver, "live-shade-a")

    # Another shade: the lips follow within a second of camera frames (30 at 30 fps).
    choose_shade(driver, "lipstick", pb, sb)
    worn_b = wait_lips(
        driver, landmarker,
        lambda lab: float(ciede2000(lab, lab_b)) < float(ciede2000(worn_a, lab_b)) - 8, 30,
        f"the lips did not follow the change to {hex_b} within 30 frames",
    )  # fmt: skip
    screenshot(driver, "live-shade-b")
    assert float(ciede2000(worn_b, lab_b)) < float(ciede2000(worn_b, lab_a))

    # "Find my foundation" from the live face: the current frame is measured.
    click(driver, "#find-foundation", "find my foundation")
    matches = WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#foundation-results .delta-e"),
        message="no foundation matches for the live face",
    )
    assert "ΔE" in matches[0].text
    screenshot(driver, "live-shade-finder")

    s = stats(driver)
    assert s["lastError"] is None, s["lastError"]
    assert s["firstMadeUpFrameAt"] is not None and s["latenciesMs"]
    text = driver.find_element(By.ID, "fps").text + driver.find_element(By.ID, "latency").text
    assert any(ch.isdigit() for ch in text), "fps and latency are shown"
    assert console_errors(driver, stack.web_url) == []


def test_photo_upload_shade_finder_recommendations_and_bag(
    browser, stack: Stack, studio_key: str, two_lipsticks, database_url: str, downloads: Path  # type: ignore[no-untyped-def]
) -> None:
    driver = browser
    open_studio(driver, stack, studio_key, lang="en", user=SHOPPER)
    driver.find_element(By.ID, "photo-input").send_keys(str(TEST_DATA / "obama.jpg"))
    wait_js(driver, "return window.tryonStats.mode === 'photo'", 30, "photo mode")
    before = wait_photo(driver)
    (pa, sa, hex_a), _ = two_lipsticks
    choose_shade(driver, "lipstick", pa, sa)
    WebDriverWait(driver, 30).until(
        lambda d: np.abs(canvas_rgb(d).astype(int) - before.astype(int)).mean() > 0.2,
        message="the photo never changed after a shade was chosen",
    )
    intensity = driver.find_element(
        By.CSS_SELECTOR, f'#look [data-product-id="{pa}"] input.intensity'
    )
    assert intensity.get_attribute("aria-label") or intensity.get_attribute("id")
    screenshot(driver, "photo-lipstick")
    driver.execute_script(
        "const s = document.getElementById('split'); s.value = 50;"
        "s.dispatchEvent(new Event('input', {bubbles: true}));"
    )
    screenshot(driver, "photo-before-after")
    saved = downloads / "tryon.png"
    saved.unlink(missing_ok=True)
    driver.find_element(By.ID, "download").click()
    WebDriverWait(driver, 15).until(lambda d: saved.exists() and saved.stat().st_size > 0,
                                    message="the picture was not downloaded")  # fmt: skip
    picture = cv2.imread(str(saved))
    assert picture is not None and picture.shape[:2] == before.shape[:2]

    driver.find_element(By.ID, "find-foundation").click()
    results = WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#foundation-results [data-shade-id]"),
        message="no foundation matches",
    )
    delta_e = results[0].find_element(By.CSS_SELECTOR, ".delta-e").text
    assert "ΔE" in delta_e and any(ch.isdigit() for ch in delta_e), delta_e
    screenshot(driver, "shade-finder")

    driver.find_element(By.ID, "recommend").click()
    WebDriverWait(driver, 30).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#recommendations .add-to-bag"),
        message="no recommendations",
    )
    reasons = driver.execute_script(
        "return [...document.querySelectorAll('#recommendations .reason')].map(e => e.textContent)"
    )
    assert reasons and all(r.strip() for r in reasons), "every recommendation shows its reason"
    click(driver, "#recommendations .add-to-bag", "add to bag")
    WebDriverWait(driver, 15).until(
        lambda d: d.find_element(By.ID, "bag-count").text.strip() == "1", message="bag count"
    )
    screenshot(driver, "recommendations-bag")
    engine = create_engine(database_url)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with engine.connect() as conn:
                kinds = {r[0] for r in conn.execute(text(
                    "SELECT type FROM recsys_events WHERE tenant = 'alpha' AND user_id = :u"
                ), {"u": SHOPPER})}  # fmt: skip
            if {"add_to_cart", "try_on"} <= kinds:
                break
            time.sleep(0.3)
    finally:
        engine.dispose()
    assert {"add_to_cart", "try_on"} <= kinds, kinds
    assert stats(driver)["lastError"] is None
    assert console_errors(driver, stack.web_url) == []


def wait_photo(driver) -> np.ndarray:  # type: ignore[no-untyped-def]
    """The view once the uploaded photo is drawn (not blank)."""
    WebDriverWait(driver, 30).until(lambda d: canvas_rgb(d).std() > 10, message="photo drawn")
    return canvas_rgb(driver)


def test_chinese_on_a_phone_sized_screen(browser, stack: Stack, studio_key: str) -> None:  # type: ignore[no-untyped-def]
    driver = browser
    driver.set_window_size(390, 844)
    try:
        open_studio(driver, stack, studio_key, lang="zh")
        wait_js(driver, "return document.querySelector('#products [data-product-id]') !== null")
        assert driver.execute_script("return document.documentElement.lang").startswith("zh")
        body = driver.find_element(By.TAG_NAME, "body").text
        assert "口红" in body, "category names in Chinese"
        overflow = driver.execute_script(
            "return document.documentElement.scrollWidth - window.innerWidth"
        )
        assert overflow <= 1, f"the page is {overflow} px wider than a phone"
        screenshot(driver, "phone-zh")
        Select(driver.find_element(By.ID, "lang")).select_by_value("en")
        wait_js(driver, "return document.body.innerText.includes('Lipstick')", 5, "English")
        unlabelled = driver.execute_script("""
            return [...document.querySelectorAll('button, input, select')].filter(e => {
              if (e.type === 'hidden' || e.offsetParent === null) return false;
              const named = e.getAttribute('aria-label') || e.getAttribute('aria-labelledby')
                || (e.id && document.querySelector(`label[for="${e.id}"]`)) || e.closest('label')
                || (e.tagName === 'BUTTON' && e.textContent.trim());
              return !named;
            }).map(e => e.outerHTML.slice(0, 80));""")
        assert unlabelled == [], unlabelled
        # Keyboard only: a product card and a shade chip, each focused and pressed.
        driver.execute_script("document.querySelector('#products [data-product-id]').focus()")
        driver.switch_to.active_element.send_keys(Keys.ENTER)
        WebDriverWait(driver, 20).until(
            lambda d: d.execute_script(
                "const c = document.querySelector('#shades [data-shade-id]');"
                "if (c) c.focus(); return c !== null && document.activeElement === c"
            ),
            message="no shade chip to focus",
        )
        driver.switch_to.active_element.send_keys(Keys.SPACE)
        WebDriverWait(driver, 10).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, "#look [data-product-id]"),
            message="a shade chosen by keyboard is not on the look",
        )
        assert console_errors(driver, stack.web_url) == []
    finally:
        driver.set_window_size(1280, 900)


EMBED_PAGE = """<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Velvet lipstick - partner shop</title><link rel="icon" href="data:,"></head>
<body><h1>Partner shop: a lipstick</h1><p>Try it on:</p>
<script src="{web}/embed.js" data-key="{key}" data-product="{product}" async></script>
</body></html>"""

PROBE = """
const [web, key, done] = arguments;
const result = {};
try {
  const reply = await fetch(web + '/api/v1/products?page_size=1', {headers: {'X-Tryon-Key': key}});
  result.fetch = reply.status;
} catch (e) { result.fetch = e.name; }
result.ws = await new Promise(resolve => {
  const ws = new WebSocket(web.replace('http', 'ws') + '/api/v1/stream?key=' + key);
  ws.onopen = () => ws.send(JSON.stringify({type: 'config', look: []}));
  ws.onclose = e => resolve(e.code);
  setTimeout(() => resolve('timeout'), 10000);
});
done(result);
"""


def test_the_embed_works_on_an_allowed_origin_and_is_refused_elsewhere(
    browser, stack: Stack, studio_key: str, partner_sites: tuple[PartnerSite, PartnerSite],  # type: ignore[no-untyped-def]
    two_lipsticks,
) -> None:
    driver = browser
    allowed, other = partner_sites
    (product, _, _), _ = two_lipsticks
    page = EMBED_PAGE.format(web=stack.web_url, key=studio_key, product=product)

    driver.get(allowed.page("product.html", page))
    frame = WebDriverWait(driver, 20).until(
        lambda d: d.find_elements(By.TAG_NAME, "iframe"), message="the embed's iframe"
    )[0]
    assert frame.get_attribute("src").startswith(f"{stack.web_url}/studio?")
    driver.switch_to.frame(frame)
    try:
        WebDriverWait(driver, 30).until(
            lambda d: d.find_elements(By.CSS_SELECTOR, f'#look [data-product-id="{product}"]'),
            message="the embed opened on the partner's product",
        )
    finally:
        driver.switch_to.default_content()
    screenshot(driver, "embed-allowed")
    driver.set_script_timeout(30)
    probe = driver.execute_async_script(PROBE, stack.web_url, studio_key)
    # CORS lets the partner's page read the API; its WebSocket opens (and is closed by the
    # server only at the end of the stream: 1000, or the page leaving).
    assert probe["fetch"] == 200 and probe["ws"] != 4403, probe
    assert console_errors(driver, stack.web_url) == []

    driver.get(other.page("product.html", page))
    frame = WebDriverWait(driver, 20).until(lambda d: d.find_elements(By.TAG_NAME, "iframe"))[0]
    time.sleep(1.5)
    driver.switch_to.frame(frame)
    try:
        framed = driver.find_elements(By.ID, "view")
        assert framed == [], "the studio rendered inside a page that may not frame it"
    finally:
        driver.switch_to.default_content()
    refusals = " ".join(console_errors(driver))
    assert "frame-ancestors" in refusals, refusals
    probe = driver.execute_async_script(PROBE, stack.web_url, studio_key)
    assert probe == {"fetch": "TypeError", "ws": 4403}, probe
    screenshot(driver, "embed-refused")


def test_the_advisor_answers_in_the_shoppers_language_and_follows_up(
    browser, stack: Stack, studio_key: str  # type: ignore[no-untyped-def]
) -> None:
    driver = browser
    open_studio(driver, stack, studio_key, lang="zh", user=SHOPPER)

    def ask(question: str) -> list[str]:
        before = driver.find_element(By.ID, "ask-reply").text
        box = driver.find_element(By.ID, "ask-input")
        box.clear()
        box.send_keys(question)
        box.send_keys(Keys.ENTER)  # the form's submit, as a shopper presses Enter
        WebDriverWait(driver, 30).until(
            lambda d: d.find_element(By.ID, "ask-reply").text not in ("", before),
            message=f"no answer to {question}",
        )
        return driver.execute_script(
            "return [...document.querySelectorAll('#ask-results .reason')].map(e => e.textContent)"
        )  # type: ignore[no-any-return]

    reasons = ask("想要一支适合约会的豆沙色口红，不要太亮")
    reply = driver.find_element(By.ID, "ask-reply").text
    assert reasons and any("\u4e00" <= ch <= "\u9fff" for ch in reply), reply
    assert all("豆沙" in r for r in reasons), reasons
    reasons = ask("换个哑光的")
    assert reasons and all("哑光" in r for r in reasons), reasons
    click(driver, "#ask-results button.try", "try the advised lipstick")
    WebDriverWait(driver, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "#look [data-product-id]"),
        message="the advised product is not on the look",
    )
    screenshot(driver, "advisor-zh")
    assert console_errors(driver, stack.web_url) == []
