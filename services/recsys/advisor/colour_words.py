"""The advisor's colour vocabulary: colour words (English and Chinese) -> sRGB hex, and the
colour modifiers that move a colour in CIELAB ("light", "深", "dusty", "暖").

Sources of the conventions:
* CSS_COLOURS: the 148 CSS Color Module Level 4 named colours (the X11 set as browsers ship it),
  with their standard hexes, keys as CSS spells them (one word, "lightpink").
* MAKEUP_COLOURS_EN / MAKEUP_COLOURS_ZH: the shade a beauty retailer or review site typically
  shows for the word (e.g. "brick red" a brown-red like MAC Chili, "豆沙" the muted rose-brown of
  red-bean paste, "姨妈色" the deep wine red named after dried blood, "斩男色" the soft coral-pink
  of NARS Orgasm, "枫叶红" the brown-red of maple leaves in autumn), picked by eye from product
  swatches of the named shade. They are typical shades, not standards: retrieval matches them by
  CIEDE2000 with a tolerance.

Each entry is (hex, family): family is one of services.common.colour_families' names where the
word names one naturally ("nude", "berry"), else "" and the parser derives the family from the
hex with colour_family() ("champagne" and "rose gold" are pale, low-chroma colours the catalog
files as nude). Every named family is also what colour_family() gives the hex (a test checks
it), so a shade near the word's hex is filed under the word's family.
"""

from __future__ import annotations

CSS_COLOURS: dict[str, str] = {
    "aliceblue": "#f0f8ff", "antiquewhite": "#faebd7", "aqua": "#00ffff",
    "aquamarine": "#7fffd4", "azure": "#f0ffff", "beige": "#f5f5dc", "bisque": "#ffe4c4",
    "black": "#000000", "blanchedalmond": "#ffebcd", "blue": "#0000ff",
    "blueviolet": "#8a2be2", "brown": "#a52a2a", "burlywood": "#deb887",
    "cadetblue": "#5f9ea0", "chartreuse": "#7fff00", "chocolate": "#d2691e",
    "coral": "#ff7f50", "cornflowerblue": "#6495ed", "cornsilk": "#fff8dc",
    "crimson": "#dc143c", "cyan": "#00ffff", "darkblue": "#00008b", "darkcyan": "#008b8b",
    "darkgoldenrod": "#b8860b", "darkgray": "#a9a9a9", "darkgreen": "#006400",
    "darkgrey": "#a9a9a9", "darkkhaki": "#bdb76b", "darkmagenta": "#8b008b",
    "darkolivegreen": "#556b2f", "darkorange": "#ff8c00", "darkorchid": "#9932cc",
    "darkred": "#8b0000", "darksalmon": "#e9967a", "darkseagreen": "#8fbc8f",
    "darkslateblue": "#483d8b", "darkslategray": "#2f4f4f", "darkslategrey": "#2f4f4f",
    "darkturquoise": "#00ced1", "darkviolet": "#9400d3", "deeppink": "#ff1493",
    "deepskyblue": "#00bfff", "dimgray": "#696969", "dimgrey": "#696969",
    "dodgerblue": "#1e90ff", "firebrick": "#b22222", "floralwhite": "#fffaf0",
    "forestgreen": "#228b22", "fuchsia": "#ff00ff", "gainsboro": "#dcdcdc",
    "ghostwhite": "#f8f8ff", "gold": "#ffd700", "goldenrod": "#daa520", "gray": "#808080",
    "green": "#008000", "greenyellow": "#adff2f", "grey": "#808080", "honeydew": "#f0fff0",
    "hotpink": "#ff69b4", "indianred": "#cd5c5c", "indigo": "#4b0082", "ivory": "#fffff0",
    "khaki": "#f0e68c", "lavender": "#e6e6fa", "lavenderblush": "#fff0f5",
    "lawngreen": "#7cfc00", "lemonchiffon": "#fffacd", "lightblue": "#add8e6",
    "lightcoral": "#f08080", "lightcyan": "#e0ffff", "lightgoldenrodyellow": "#fafad2",
    "lightgray": "#d3d3d3", "lightgreen": "#90ee90", "lightgrey": "#d3d3d3",
    "lightpink": "#ffb6c1", "lightsalmon": "#ffa07a", "lightseagreen": "#20b2aa",
    "lightskyblue": "#87cefa", "lightslategray": "#778899", "lightslategrey": "#778899",
    "lightsteelblue": "#b0c4de", "lightyellow": "#ffffe0", "lime": "#00ff00",
    "limegreen": "#32cd32", "linen": "#faf0e6", "magenta": "#ff00ff", "maroon": "#800000",
    "mediumaquamarine": "#66cdaa", "mediumblue": "#0000cd", "mediumorchid": "#ba55d3",
    "mediumpurple": "#9370db", "mediumseagreen": "#3cb371", "mediumslateblue": "#7b68ee",
    "mediumspringgreen": "#00fa9a", "mediumturquoise": "#48d1cc",
    "mediumvioletred": "#c71585", "midnightblue": "#191970", "mintcream": "#f5fffa",
    "mistyrose": "#ffe4e1", "moccasin": "#ffe4b5", "navajowhite": "#ffdead",
    "navy": "#000080", "oldlace": "#fdf5e6", "olive": "#808000", "olivedrab": "#6b8e23",
    "orange": "#ffa500", "orangered": "#ff4500", "orchid": "#da70d6",
    "palegoldenrod": "#eee8aa", "palegreen": "#98fb98", "paleturquoise": "#afeeee",
    "palevioletred": "#db7093", "papayawhip": "#ffefd5", "peachpuff": "#ffdab9",
    "peru": "#cd853f", "pink": "#ffc0cb", "plum": "#dda0dd", "powderblue": "#b0e0e6",
    "purple": "#800080", "rebeccapurple": "#663399", "red": "#ff0000",
    "rosybrown": "#bc8f8f", "royalblue": "#4169e1", "saddlebrown": "#8b4513",
    "salmon": "#fa8072", "sandybrown": "#f4a460", "seagreen": "#2e8b57",
    "seashell": "#fff5ee", "sienna": "#a0522d", "silver": "#c0c0c0", "skyblue": "#87ceeb",
    "slateblue": "#6a5acd", "slategray": "#708090", "slategrey": "#708090", "snow": "#fffafa",
    "springgreen": "#00ff7f", "steelblue": "#4682b4", "tan": "#d2b48c", "teal": "#008080",
    "thistle": "#d8bfd8", "tomato": "#ff6347", "turquoise": "#40e0d0", "violet": "#ee82ee",
    "wheat": "#f5deb3", "white": "#ffffff", "whitesmoke": "#f5f5f5", "yellow": "#ffff00",
    "yellowgreen": "#9acd32",
}  # fmt: skip

# English makeup colour words. Where a word is also a CSS name ("coral", "plum", "gold") the
# makeup meaning wins: a "plum lipstick" is a deep red-purple, not CSS's pale lilac #dda0dd.
MAKEUP_COLOURS_EN: dict[str, tuple[str, str]] = {
    "red": ("#c8102e", "red"),  # a lipstick "red" is a blue-leaning true red, not #ff0000
    "true red": ("#c8102e", "red"),
    "classic red": ("#c41e3a", "red"),
    "blue red": ("#b0103a", "red"),
    "orange red": ("#db3523", "red"),
    "brick red": ("#a23b2c", "red"),
    "brick": ("#a23b2c", "red"),
    "cherry": ("#b3123a", "red"),
    "cherry red": ("#b3123a", "red"),
    "tomato red": ("#d63a28", "red"),
    "scarlet": ("#d0202a", "red"),
    "crimson": ("#b0143a", "red"),
    "rust": ("#a8472a", "brown"),
    "terracotta": ("#c55c38", "orange"),
    "cinnamon": ("#9c5236", "brown"),
    "wine": ("#7a1d34", "berry"),
    "burgundy": ("#7a1d34", "berry"),
    "oxblood": ("#680324", "berry"),
    "maroon": ("#74132e", "berry"),
    "berry": ("#8e2a4a", "berry"),
    "raspberry": ("#b0285a", "berry"),
    "plum": ("#6b2a48", "plum"),
    "grape": ("#5d2a55", "plum"),
    "aubergine": ("#4a2238", "plum"),
    "mauve": ("#b07a8c", "pink"),
    "dusty rose": ("#b9818a", "pink"),
    "dusty pink": ("#c48f95", "pink"),
    "rose": ("#c25a72", "pink"),
    "rosewood": ("#9e5b5e", "nude"),
    "rosy": ("#c25a72", "pink"),
    "earth tone": ("#9a7058", "brown"),
    "earth tones": ("#9a7058", "brown"),
    "earthy": ("#9a7058", "brown"),
    "rose gold": ("#c98e7f", ""),
    "pink": ("#e07a9a", "pink"),
    "baby pink": ("#f4b6c2", "pink"),
    "pastel pink": ("#f6c1cc", "pink"),
    "hot pink": ("#e0218a", "pink"),
    "bubblegum": ("#f27aa6", "pink"),
    "bubblegum pink": ("#f27aa6", "pink"),
    "fuchsia": ("#d1227a", "pink"),
    "fuschia": ("#d1227a", "pink"),  # the usual misspelling, two edits away
    "magenta": ("#c2185b", "pink"),
    "coral": ("#f0735a", "coral"),
    "peach": ("#fe9a81", "coral"),
    "apricot": ("#f2a36b", ""),
    "salmon": ("#ee8a74", "coral"),
    "orange": ("#e8612c", "orange"),
    "tangerine": ("#f06a25", "orange"),
    "nude": ("#c49a86", "nude"),
    "beige": ("#d6b49a", "nude"),
    "neutral": ("#c49a86", "nude"),
    "caramel": ("#a56a3d", "brown"),
    "toffee": ("#a56a44", "brown"),
    "mocha": ("#7e5a4b", "brown"),
    "chocolate": ("#5c3a2e", "brown"),
    "coffee": ("#6f4e37", "brown"),
    "brown": ("#7b4a3a", "brown"),
    "bronze": ("#a0663c", "brown"),
    "copper": ("#b0643c", "brown"),
    "champagne": ("#e8cfae", ""),
    "gold": ("#c9a14a", "gold"),
    "golden": ("#c9a14a", "gold"),
    "taupe": ("#8c7d74", "taupe"),
    "black": ("#1a1a1a", "black"),
    "jet black": ("#0d0d0d", "black"),
    "brown black": ("#2e2320", "black"),
    "grey": ("#808080", "grey"),
    "gray": ("#808080", "grey"),
    "white": ("#f5f5f5", "white"),
    "purple": ("#9e5ab9", "purple"),
    "lilac": ("#c8a2c8", "purple"),
    "lavender": ("#b4a0d0", "purple"),
    "violet": ("#9559ca", "purple"),
    "blue": ("#2f5fa8", "blue"),
    "navy": ("#1b2b58", "blue"),
    "green": ("#3e7d4a", "green"),
    "emerald": ("#1f7a5a", "green"),
    "olive green": ("#6b7a3a", "green"),
    "khaki": ("#a59a6a", ""),
    "silver": ("#c0c0c0", "grey"),
}

# Chinese makeup colour words ("X" and "X色" are both added by the parser).
MAKEUP_COLOURS_ZH: dict[str, tuple[str, str]] = {
    "正红": ("#c8102e", "red"),  # the standard "true red" (e.g. Dior 999)
    "大红": ("#d0202a", "red"),
    "红": ("#c8102e", "red"),
    "复古红": ("#a3202c", "red"),  # retro red: a deep blue-red
    "番茄红": ("#d63a28", "red"),
    "烂番茄": ("#b5452f", "red"),  # "rotten tomato": a muted, browned tomato red
    "枫叶红": ("#a0382a", "red"),  # autumn maple: brown-red (e.g. YSL #1966)
    "砖红": ("#a23b2c", "red"),
    "橘红": ("#de4a30", "red"),
    "樱桃红": ("#b3123a", "red"),
    "酒红": ("#7a1d34", "berry"),
    "姨妈色": ("#72092a", "berry"),  # deep wine red
    "紫红": ("#8e2456", "berry"),
    "浆果色": ("#8e2a4a", "berry"),
    "浆果": ("#8e2a4a", "berry"),
    "莓果": ("#8e2a4a", "berry"),
    "莓果色": ("#8e2a4a", "berry"),
    "梅子": ("#6b2a48", "plum"),
    "梅子色": ("#6b2a48", "plum"),
    "李子色": ("#6b2a48", "plum"),
    "豆沙": ("#b6797a", "nude"),  # red-bean paste: muted rose-brown (the rosy nude of lipsticks)
    "玫瑰": ("#c25a72", "pink"),
    "玫瑰色": ("#c25a72", "pink"),
    "玫红": ("#d1227a", "pink"),  # rose-red: a vivid fuchsia pink
    "粉": ("#e07a9a", "pink"),
    "粉红": ("#e07a9a", "pink"),
    "粉色": ("#e07a9a", "pink"),
    "樱花粉": ("#f4b6c2", "pink"),
    "蜜桃色": ("#fe9a81", "coral"),  # peach
    "蜜桃": ("#fe9a81", "coral"),
    "桃色": ("#fe9a81", "coral"),
    "斩男色": ("#ee8a7e", "coral"),  # the soft coral-pink of NARS Orgasm
    "珊瑚": ("#f0735a", "coral"),
    "珊瑚色": ("#f0735a", "coral"),
    "西柚色": ("#f26a5a", "coral"),  # grapefruit: a bright pink-coral
    "西柚": ("#f26a5a", "coral"),
    "杏色": ("#f2a36b", ""),
    "南瓜色": ("#d2692e", "orange"),  # pumpkin: orange-brown
    "橘色": ("#e8612c", "orange"),
    "橘": ("#e8612c", "orange"),
    "橙色": ("#e8612c", "orange"),
    "橘调": ("#e8612c", "orange"),
    "脏橘色": ("#c25a32", "orange"),  # "dirty orange": a muted brown-orange
    "土橘色": ("#c25a32", "orange"),
    "奶茶色": ("#c09a82", "nude"),  # milk-tea: a warm beige-brown nude
    "奶咖": ("#a98068", "nude"),  # milky coffee
    "奶咖色": ("#a98068", "nude"),
    "裸色": ("#c49a86", "nude"),
    "肉色": ("#d6a98e", "nude"),
    "肉桂色": ("#9c5236", "brown"),
    "焦糖色": ("#a56a3d", "brown"),
    "焦糖": ("#a56a3d", "brown"),
    "棕": ("#7b4a3a", "brown"),
    "棕色": ("#7b4a3a", "brown"),
    "咖啡色": ("#6f4e37", "brown"),
    "咖色": ("#6f4e37", "brown"),
    "巧克力色": ("#5c3a2e", "brown"),
    "大地色": ("#9a7058", "brown"),  # earth tones: the browns of an eye palette
    "古铜色": ("#a0663c", "brown"),
    "香槟色": ("#e8cfae", ""),
    "香槟金": ("#e0c290", ""),
    "金色": ("#c9a14a", "gold"),
    "金": ("#c9a14a", "gold"),
    "玫瑰金": ("#c98e7f", ""),
    "银色": ("#c0c0c0", "grey"),
    "灰色": ("#808080", "grey"),
    "灰棕": ("#7d6e63", "taupe"),
    "黑": ("#1a1a1a", "black"),
    "黑色": ("#1a1a1a", "black"),
    "白色": ("#f5f5f5", "white"),
    "红色": ("#c8102e", "red"),
    "紫色": ("#9e5ab9", "purple"),
    "紫": ("#9e5ab9", "purple"),
    "蓝色": ("#2f5fa8", "blue"),
    "绿色": ("#3e7d4a", "green"),
}

# Modifiers: (dL*, chroma factor, hue rotation in degrees toward yellow (+) or blue/pink (-)).
MODIFIERS: dict[str, tuple[float, float, float]] = {
    "light": (12.0, 1.0, 0.0), "pale": (15.0, 0.85, 0.0), "soft": (8.0, 0.85, 0.0),
    "dark": (-14.0, 1.0, 0.0), "deep": (-14.0, 1.05, 0.0),
    "bright": (4.0, 1.3, 0.0), "vivid": (2.0, 1.35, 0.0), "vibrant": (2.0, 1.3, 0.0),
    "muted": (0.0, 0.7, 0.0), "dusty": (0.0, 0.7, 0.0), "dusky": (-4.0, 0.7, 0.0),
    "warm": (0.0, 1.0, 10.0), "cool": (0.0, 1.0, -10.0),
    "warm-toned": (0.0, 1.0, 10.0), "cool-toned": (0.0, 1.0, -10.0),
    "warm toned": (0.0, 1.0, 10.0), "cool toned": (0.0, 1.0, -10.0),
    "浅": (12.0, 1.0, 0.0), "淡": (12.0, 0.9, 0.0), "深": (-14.0, 1.0, 0.0),
    "亮": (4.0, 1.3, 0.0), "鲜艳": (2.0, 1.35, 0.0), "艳": (2.0, 1.3, 0.0),
    "雾": (0.0, 0.7, 0.0), "低饱和": (0.0, 0.65, 0.0), "脏": (-3.0, 0.7, 0.0),
    "暖": (0.0, 1.0, 10.0), "冷": (0.0, 1.0, -10.0),
}  # fmt: skip


def all_colour_words() -> dict[str, tuple[str, str]]:
    """Every colour word -> (hex, family or ""): CSS names, then the makeup words over them,
    and each Chinese word both with and without its 色 suffix."""
    words: dict[str, tuple[str, str]] = {name: (hx, "") for name, hx in CSS_COLOURS.items()}
    words.update(MAKEUP_COLOURS_EN)
    for word, entry in MAKEUP_COLOURS_ZH.items():
        words[word] = entry
        if word.endswith("色") and len(word) > 2:
            words.setdefault(word[:-1], entry)
        elif not word.endswith("色"):
            words.setdefault(word + "色", entry)
    return words
