"""Realistic generated resident ID cards, for tests, the eval and the benchmark.

Real cards cannot be put in a public repository, so the OCR is measured on
generated ones: the layout of ``layout.py``, Debian's Noto CJK fonts, real face
photos as portraits, random *valid* identities, then phone-photo distortions
(perspective, rotation, blur, noise, uneven light, JPEG). Everything is driven
by a seeded ``numpy`` generator, so a seed reproduces a set exactly.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from pensioncert.documents import layout as L
from pensioncert.documents.vocab import ETHNICITIES
from pensioncert.domain.idnumber import check_character

Side = Literal["front", "back"]
PX_PER_MM = 10.0  # 856 x 540 px card: about what a phone photo resized to 1280 px holds

_FONT_DIRS = (Path("/usr/share/fonts/opentype/noto"), Path("/usr/share/fonts/truetype/dejavu"))
_CJK_SANS = "NotoSansCJK-Regular.ttc"
_CJK_SANS_BOLD = "NotoSansCJK-Bold.ttc"
_CJK_SERIF_BOLD = "NotoSerifCJK-Bold.ttc"
_SC_INDEX = 2  # Simplified Chinese face inside the Noto CJK collections
_DIGITS = "DejaVuSansMono-Bold.ttf"

LABEL_RGB = (40, 120, 185)
VALUE_RGB = (22, 22, 26)

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤"
)
DOUBLE_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫")
GIVEN_CHARS = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂英华玉萍红娥玲芬燕建国建华志强志明永华"
    "淑珍凤英秀兰桂兰海燕春梅德华振华金凤文华秀珍宝林国强立新庆华淑英美玲小红丽华秋菊荣桂"
    "家豪子轩浩然俊杰思远晓东晓明雪梅翠花慧敏雅琴惠珍月娥耀祖锦荣瑞芳碧霞炳坤润生维新伯涛"
)
SHENZHEN_DISTRICTS = {
    "440303": "罗湖", "440304": "福田", "440305": "南山", "440306": "宝安", "440307": "龙岗",
    "440308": "盐田", "440309": "龙华", "440310": "坪山", "440311": "光明",
}  # fmt: skip
OTHER_REGIONS = ("440104", "440106", "441402", "445102", "430104", "360102", "420106", "350102",
                 "510104", "450103", "410105", "452501")  # fmt: skip
OTHER_AUTHORITIES = ("广州市公安局天河分局", "长沙市公安局岳麓分局", "梅州市公安局梅江分局", "潮州市公安局湘桥分局",
                     "南昌市公安局东湖分局", "武汉市公安局武昌分局", "玉林市公安局", "兴宁市公安局")  # fmt: skip
ROADS = ("深南大道", "滨海大道", "科苑路", "华强北路", "东门中路", "人民南路", "宝安大道", "龙岗大道", "梅林路",
         "红荔路", "福华三路", "沙河西路", "新湖路", "布吉路", "翠竹路", "莲花路", "桂园路", "建设路", "松岗大道",
         "盐田路", "民治大道", "坪山大道", "光明大道", "园岭八街", "上步中路", "泥岗西路", "笋岗东路")  # fmt: skip
ESTATES = ("莲花北村", "园岭新村", "梅林一村", "华侨城", "百花园", "东湖花园", "翠竹苑", "丽山花园", "海滨花园",
           "桃源村", "万科城", "碧海花园", "景田北", "荔枝苑", "彩田村", "锦绣家园")  # fmt: skip
ADDRESS_PATTERNS = ("{estate}{building}栋{room}", "{estate}{building}栋{unit}单元{room}房", "{number}号{room}",
                    "{number}号{estate}{building}栋{room}")  # fmt: skip


@dataclass(frozen=True)
class Identity:
    """Everything printed on both sides of one card."""

    name: str
    sex: Literal["male", "female"]
    ethnicity: str
    birth_date: date
    address: str
    id_number: str
    authority: str
    valid_from: date
    valid_until: date | None  # None = 长期 (long term)

    def front_fields(self) -> dict[str, str]:
        """The fields the reader should return for the front, in its formats."""
        return {"name": self.name, "sex": self.sex, "ethnicity": self.ethnicity,
                "birth_date": self.birth_date.isoformat(), "address": self.address,
                "id_number": self.id_number}  # fmt: skip

    def back_fields(self) -> dict[str, str]:
        """The fields the reader should return for the back, in its formats."""
        until = self.valid_until.isoformat() if self.valid_until else "long_term"
        return {"authority": self.authority, "valid_from": self.valid_from.isoformat(), "valid_until": until}


@dataclass
class GeneratedCard:
    """One rendered side and the truth it was rendered from."""

    side: Side
    identity: Identity
    image: np.ndarray  # BGR uint8, as cv2.imdecode gives
    corners: np.ndarray  # 4x2 float: card corners (TL, TR, BR, BL) in image pixels
    distortions: dict[str, float] = field(default_factory=dict)
    flat: np.ndarray | None = None  # the unphotographed card, RGBA at PX_PER_MM

    def flat_region(self, box: L.Box) -> np.ndarray:
        """A region of the flat card (e.g. ``layout.PORTRAIT_BOX``) as BGR, for comparisons."""
        assert self.flat is not None
        crop = self.flat[_px(box.y) : _px(box.y + box.h), _px(box.x) : _px(box.x + box.w), :3]
        return cv2.cvtColor(np.ascontiguousarray(crop), cv2.COLOR_RGB2BGR)

    @property
    def truth(self) -> dict[str, str]:
        return self.identity.front_fields() if self.side == "front" else self.identity.back_fields()

    def jpeg(self, quality: int = 92) -> bytes:
        ok, buf = cv2.imencode(".jpg", self.image, [cv2.IMWRITE_JPEG_QUALITY, quality])
        assert ok
        return buf.tobytes()


# --------------------------------------------------------------------------- identities


def _add_years(day: date, years: int) -> date:
    year = day.year + years
    return day.replace(year=year, day=min(day.day, calendar.monthrange(year, day.month)[1]))


def _pick(rng: np.random.Generator, items: tuple[str, ...] | str) -> str:
    return items[int(rng.integers(len(items)))]


def random_identity(rng: np.random.Generator, today: date | None = None, expired: bool = False) -> Identity:
    """A random retiree (born 1930-1970) with a valid ID number and a card valid on ``today``.

    Validity follows the law on resident ID cards: 10 years when issued at 16-25,
    20 years at 26-45, long term from 46.
    """
    today = today or date.today()
    sex: Literal["male", "female"] = "male" if rng.random() < 0.5 else "female"
    surname = _pick(rng, DOUBLE_SURNAMES) if rng.random() < 0.03 else _pick(rng, SURNAMES)
    name = surname + "".join(_pick(rng, GIVEN_CHARS) for _ in range(1 if rng.random() < 0.3 else 2))
    ethnicity = "汉" if rng.random() < 0.8 else _pick(rng, ETHNICITIES)
    birth, issued, until = _birth_and_validity(rng, today, expired)
    region = _pick(rng, tuple(SHENZHEN_DISTRICTS)) if rng.random() < 0.6 else _pick(rng, OTHER_REGIONS)
    sequence = int(rng.integers(0, 500)) * 2 + (1 if sex == "male" else 0)
    first17 = f"{region}{birth:%Y%m%d}{sequence:03d}"
    id_number = first17 + check_character(first17)
    district = SHENZHEN_DISTRICTS[_pick(rng, tuple(SHENZHEN_DISTRICTS))]
    authority = f"深圳市公安局{district}分局" if rng.random() < 0.85 else _pick(rng, OTHER_AUTHORITIES)
    address = _random_address(rng, district)
    return Identity(name, sex, ethnicity, birth, address, id_number, authority, issued, until)


def _birth_and_validity(rng: np.random.Generator, today: date, expired: bool) -> tuple[date, date, date | None]:
    """Birth date, issue date and expiry (None = long term) of a card (not) expired on ``today``."""
    span = (date(1970, 12, 31) - date(1930, 1, 1)).days
    for _ in range(1000):
        birth = date(1930, 1, 1) + timedelta(days=int(rng.integers(span)))
        issued = date(2004, 1, 1) + timedelta(days=int(rng.integers((today - date(2004, 1, 1)).days - 30)))
        age = (issued - birth).days // 365
        if age < 16:
            continue
        until = None if age >= 46 else _add_years(issued, 10 if age <= 25 else 20)
        if (until is not None and until < today) == expired:
            return birth, issued, until
    raise ValueError(f"cannot generate a card {'expired' if expired else 'valid'} on {today}")


def _random_address(rng: np.random.Generator, district: str) -> str:
    while True:
        pattern = _pick(rng, ADDRESS_PATTERNS)
        tail = pattern.format(estate=_pick(rng, ESTATES), building=int(rng.integers(1, 40)),
                              unit=int(rng.integers(1, 6)), number=int(rng.integers(1, 3000)),
                              room=int(rng.integers(1, 33)) * 100 + int(rng.integers(1, 9)))  # fmt: skip
        address = f"广东省深圳市{district}区{_pick(rng, ROADS)}{tail}"
        if len(address) <= L.ADDRESS_LINE_CHARS * L.ADDRESS_MAX_LINES:
            return address


# --------------------------------------------------------------------------- rendering


@lru_cache(maxsize=32)
def _font(name: str, size_px: int) -> ImageFont.FreeTypeFont:
    for folder in _FONT_DIRS:
        path = folder / name
        if path.exists():
            return ImageFont.truetype(str(path), size_px, index=_SC_INDEX if name.endswith(".ttc") else 0)
    raise FileNotFoundError(f"font {name} not found: install Debian fonts-noto-cjk and fonts-dejavu-core")


def _px(mm: float) -> int:
    return round(mm * PX_PER_MM)


def _text(draw: ImageDraw.ImageDraw, x_mm: float, y_mm: float, text: str, font: ImageFont.FreeTypeFont,
          fill: tuple[int, int, int], spacing_mm: float = 0.0) -> float:
    """Draw ``text`` with its cap top at (x, y) mm; return the x (mm) where it ends."""
    x = float(_px(x_mm))
    top = font.getbbox("国")[1]
    for ch in text:
        draw.text((x, _px(y_mm) - top), ch, font=font, fill=fill)
        x += font.getlength(ch) + spacing_mm * PX_PER_MM
    return x / PX_PER_MM


def _background(rng: np.random.Generator, side: Side) -> np.ndarray:
    """Pale security-print background: tinted gradient plus guilloche-like waves."""
    h, w = _px(L.CARD_H_MM), _px(L.CARD_W_MM)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    base = np.array([236, 240, 240], np.float32) + rng.uniform(-6, 6, 3).astype(np.float32)
    tint = np.array([-10, -4, 8] if side == "front" else [6, -4, -6], np.float32)
    grad = (xx / w)[..., None] * tint
    phase = float(rng.uniform(0, 6.28))
    waves = np.sin(xx / 9.0 + 6 * np.sin(yy / 37.0 + phase)) * np.sin(yy / 11.0 + 4 * np.sin(xx / 53.0))
    if side == "back":
        cx, cy = _px(60), _px(30)
        waves = waves * 0.6 + 0.6 * np.sin(np.hypot(xx - cx, yy - cy) / 5.0)
    pattern = (waves[..., None] * np.array([5, 4, 6], np.float32))
    return np.clip(base + grad + pattern, 0, 255).astype(np.uint8)


def _emblem(draw: ImageDraw.ImageDraw) -> None:
    """A stylised national emblem: red disc, gold stars and gate outline (no official artwork)."""
    cx, cy, r = _px(L.EMBLEM_CENTRE[0]), _px(L.EMBLEM_CENTRE[1]), _px(L.EMBLEM_RADIUS)
    draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=(200, 30, 35), outline=(230, 180, 40), width=6)

    def star(x: float, y: float, size: float) -> None:
        pts = []
        for k in range(10):
            rad = size if k % 2 == 0 else size * 0.4
            ang = -np.pi / 2 + k * np.pi / 5
            pts.append((x + rad * np.cos(ang), y + rad * np.sin(ang)))
        draw.polygon(pts, fill=(250, 205, 50))

    star(cx, cy - r * 0.45, r * 0.28)
    for k, ang in enumerate((-0.9, -0.45, 0.45, 0.9)):
        star(cx + r * 0.55 * np.sin(ang), cy - r * 0.45 - r * 0.25 * np.cos(ang) + 0.05 * k, r * 0.09)
    draw.rectangle((cx - r * 0.45, cy + r * 0.05, cx + r * 0.45, cy + r * 0.45), outline=(250, 205, 50), width=4)
    draw.rectangle((cx - r * 0.6, cy + r * 0.45, cx + r * 0.6, cy + r * 0.55), fill=(250, 205, 50))


@lru_cache(maxsize=1)
def _portrait_sources() -> tuple[np.ndarray, ...]:
    """Real face photos (RGB), cropped head-and-shoulders at the card's portrait aspect.

    From ``pensioncert.biometrics.sample_photos()`` (photos that ship inside installed
    packages), leaving out annotated ones and thumbnails too small for a portrait.
    """
    from pensioncert.biometrics.samples import sample_photos

    photos = [p.load() for p in sample_photos() if not p.annotated]
    crops = [_head_and_shoulders(p) for p in photos if min(p.shape[:2]) >= 150]
    if not crops:  # pragma: no cover - skimage and matplotlib are runtime dependencies
        raise RuntimeError("no sample face photo found (scikit-image / matplotlib sample data)")
    return tuple(crops)


def _head_and_shoulders(rgb: np.ndarray) -> np.ndarray:
    cascade = cv2.CascadeClassifier(cv2.data.haarcascades + "haarcascade_frontalface_default.xml")  # type: ignore[attr-defined]
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    faces = cascade.detectMultiScale(gray, 1.1, 5, minSize=(40, 40))
    h, w = gray.shape
    if len(faces) == 0:
        fx, fy, fw, fh = w // 4, h // 6, w // 2, w // 2
    else:
        fx, fy, fw, fh = max(faces, key=lambda f: f[2] * f[3])
    cw = int(fw * 1.9)
    ch = int(cw * L.PORTRAIT_BOX.h / L.PORTRAIT_BOX.w)
    x0 = int(np.clip(fx + fw / 2 - cw / 2, 0, max(0, w - cw)))
    y0 = int(np.clip(fy - fh * 0.55, 0, max(0, h - ch)))
    return rgb[y0 : y0 + ch, x0 : x0 + cw].copy()


def render_side(identity: Identity, side: Side, rng: np.random.Generator,
                portrait: np.ndarray | None = None) -> np.ndarray:
    """The flat card side as an RGB array, 10 px per mm; ``portrait`` (RGB photo) replaces the sample faces."""
    img = Image.fromarray(_background(rng, side))
    draw = ImageDraw.Draw(img)
    label = _font(_CJK_SANS, _px(3.2))
    value = _font(_CJK_SANS, _px(3.5))
    if side == "front":
        for key, text in (("name", "姓名"), ("sex", "性别"), ("ethnicity", "民族"), ("birth", "出生"),
                          ("address", "住址")):  # fmt: skip
            _text(draw, L.FRONT_LABELS[key].x, L.FRONT_LABELS[key].y, text, label, LABEL_RGB, spacing_mm=2.0)
        _text(draw, L.FRONT_LABELS["id_number"].x, L.FRONT_LABELS["id_number"].y, "公民身份号码", label, LABEL_RGB,
              spacing_mm=0.2)  # fmt: skip
        name_font = _font(_CJK_SANS, _px(4.0))
        _text(draw, L.VALUE_X, L.FRONT_LABELS["name"].y - 0.3, identity.name, name_font, VALUE_RGB, spacing_mm=0.3)
        _text(draw, L.VALUE_X, L.FRONT_LABELS["sex"].y, "男" if identity.sex == "male" else "女", value, VALUE_RGB)
        _text(draw, L.ETHNICITY_VALUE_X, L.FRONT_LABELS["ethnicity"].y, identity.ethnicity, value, VALUE_RGB)
        y = L.FRONT_LABELS["birth"].y
        x = L.VALUE_X
        b = identity.birth_date
        for part, is_label in ((str(b.year), False), ("年", True), (str(b.month), False), ("月", True),
                               (str(b.day), False), ("日", True)):  # fmt: skip
            x = _text(draw, x, y, part, label if is_label else value, LABEL_RGB if is_label else VALUE_RGB) + 1.6
        chars = L.ADDRESS_LINE_CHARS
        address_font = _font(_CJK_SANS, _px(3.1))
        for i in range(0, len(identity.address), chars):
            line_y = L.FRONT_LABELS["address"].y + (i // chars) * L.ADDRESS_LINE_PITCH
            _text(draw, L.VALUE_X, line_y, identity.address[i : i + chars], address_font, VALUE_RGB)
        digits = _font(_DIGITS, _px(4.6))
        _text(draw, L.ID_NUMBER_BOX.x, L.ID_NUMBER_BOX.y, identity.id_number, digits, VALUE_RGB, spacing_mm=0.05)
        portrait_sources = (_head_and_shoulders(portrait),) if portrait is not None else _portrait_sources()
        face = portrait_sources[int(rng.integers(len(portrait_sources)))]
        if rng.random() < 0.5:
            face = face[:, ::-1]
        pb = L.PORTRAIT_BOX
        face_img = Image.fromarray(np.ascontiguousarray(face)).resize((_px(pb.w), _px(pb.h)))
        img.paste(face_img, (_px(pb.x), _px(pb.y)))
    else:
        _emblem(draw)
        title = _font(_CJK_SERIF_BOLD, _px(4.6))
        _text(draw, L.BACK_TITLE_BOX.x, L.BACK_TITLE_BOX.y, "中华人民共和国", title, VALUE_RGB, spacing_mm=2.2)
        subtitle = _font(_CJK_SANS_BOLD, _px(7.0))
        _text(draw, L.BACK_SUBTITLE_BOX.x, L.BACK_SUBTITLE_BOX.y, "居民身份证", subtitle, VALUE_RGB, spacing_mm=3.0)
        _text(draw, L.BACK_LABELS["authority"].x, L.BACK_LABELS["authority"].y, "签发机关", label, VALUE_RGB)
        _text(draw, L.BACK_LABELS["validity"].x, L.BACK_LABELS["validity"].y, "有效期限", label, VALUE_RGB)
        _text(draw, L.BACK_VALUE_X, L.BACK_LABELS["authority"].y, identity.authority, value, VALUE_RGB)
        until = f"{identity.valid_until:%Y.%m.%d}" if identity.valid_until else "长期"
        _text(draw, L.BACK_VALUE_X, L.BACK_LABELS["validity"].y, f"{identity.valid_from:%Y.%m.%d}-{until}", value,
              VALUE_RGB)  # fmt: skip
    rgb = np.asarray(img)
    return _round_corners(rgb)


def _round_corners(rgb: np.ndarray) -> np.ndarray:
    """Rounded corners carry an alpha-like mask in pure white, composited later."""
    h, w = rgb.shape[:2]
    mask = np.zeros((h, w), np.uint8)
    r = _px(3.2)
    cv2.rectangle(mask, (r, 0), (w - r, h), (255,), -1)
    cv2.rectangle(mask, (0, r), (w, h - r), (255,), -1)
    for cx, cy in ((r, r), (w - r, r), (r, h - r), (w - r, h - r)):
        cv2.circle(mask, (cx, cy), r, (255,), -1)
    return np.dstack([rgb, mask])


# --------------------------------------------------------------------------- photographing


@dataclass(frozen=True)
class Distortion:
    """How a side is 'photographed'. ``clean()`` is a flat scan; ``random()`` a phone photo."""

    canvas: tuple[int, int] = (1280, 860)  # width, height of the photo
    card_fraction: float = 0.85  # card width / photo width
    rotation_deg: float = 0.0
    perspective: float = 0.0  # corner jitter as a fraction of the card width
    offset: tuple[float, float] = (0.0, 0.0)  # card centre shift, fraction of the canvas
    blur_sigma: float = 0.0
    noise_sigma: float = 0.0
    light_gradient: float = 0.0  # 0 = even light; 0.4 = one side 40 % darker
    jpeg_quality: int = 95
    glare: float = 0.0  # radius of a saturated highlight as a fraction of the card width
    background: int = 0  # index of a background style
    keep_inside: bool = True  # shrink the card until all of it is in the photo

    @staticmethod
    def clean() -> Distortion:
        return Distortion()

    @staticmethod
    def random(rng: np.random.Generator) -> Distortion:
        """A plausible hand-held phone photo: the range the eval calls 'distorted'."""
        return Distortion(
            canvas=(1280, 960) if rng.random() < 0.5 else (1280, 720),
            card_fraction=float(rng.uniform(0.62, 0.9)),
            rotation_deg=float(rng.uniform(-12, 12)),
            perspective=float(rng.uniform(0.0, 0.06)),
            offset=(float(rng.uniform(-0.04, 0.04)), float(rng.uniform(-0.04, 0.04))),
            blur_sigma=float(rng.uniform(0.0, 1.3)),
            noise_sigma=float(rng.uniform(1.0, 7.0)),
            light_gradient=float(rng.uniform(0.0, 0.45)),
            jpeg_quality=int(rng.integers(45, 92)),
            background=int(rng.integers(0, 4)),
        )


def _canvas_background(rng: np.random.Generator, style: int, w: int, h: int) -> np.ndarray:
    colours = ((120, 90, 60), (70, 70, 75), (180, 175, 165), (40, 60, 90))
    base = np.full((h, w, 3), colours[style % len(colours)], np.float32)
    noise = cv2.GaussianBlur(rng.normal(0, 14, (h // 8 + 1, w // 8 + 1)).astype(np.float32), (0, 0), 2)
    noise = cv2.resize(noise, (w, h))
    if style == 0:  # wood grain
        noise = noise + 10 * np.sin(np.arange(w, dtype=np.float32) / 7.0)[None, :]
    return np.clip(base + noise[..., None], 0, 255)


def photograph(card_rgba: np.ndarray, d: Distortion, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Place the flat card in a photo under ``d``; return (BGR image, card corners in the photo)."""
    cw, ch = d.canvas
    h, w = card_rgba.shape[:2]
    scale = d.card_fraction * cw / w
    centre = np.array([cw / 2 + d.offset[0] * cw, ch / 2 + d.offset[1] * ch])
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    ang = np.deg2rad(d.rotation_deg)
    rot = np.array([[np.cos(ang), -np.sin(ang)], [np.sin(ang), np.cos(ang)]])
    jitter = rng.uniform(-1, 1, (4, 2)) * d.perspective * w
    for _ in range(20):
        dst = ((src - [w / 2, h / 2]) * scale) @ rot.T + centre + jitter * scale
        margin = 0.02 * cw
        inside = (dst >= margin).all() and (dst[:, 0] <= cw - margin).all() and (dst[:, 1] <= ch - margin).all()
        if inside or not d.keep_inside:
            break
        scale *= 0.95
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    if d == Distortion.clean():
        canvas = np.full((ch, cw, 3), 250.0, np.float32)
    else:
        canvas = _canvas_background(rng, d.background, cw, ch)
    warped = cv2.warpPerspective(card_rgba, matrix, (cw, ch), flags=cv2.INTER_AREA, borderValue=(0, 0, 0, 0))
    alpha = warped[..., 3:4].astype(np.float32) / 255.0
    out: np.ndarray = canvas * (1 - alpha) + warped[..., :3].astype(np.float32) * alpha
    if d.light_gradient:
        direction = rng.uniform(-1, 1, 2)
        yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
        ramp = (xx / cw - 0.5) * direction[0] + (yy / ch - 0.5) * direction[1]
        ramp = (ramp - ramp.min()) / max(float(np.ptp(ramp)), 1e-6)
        out = out * (1.0 - d.light_gradient * ramp[..., None])
    if d.glare:
        gx, gy = dst.mean(axis=0) + rng.uniform(-0.25, 0.25, 2) * [w * scale, h * scale]
        radius = d.glare * w * scale
        yy, xx = np.mgrid[0:ch, 0:cw].astype(np.float32)
        dist = np.hypot((xx - gx) / radius, (yy - gy) / (radius * 0.7))
        out = out + 400.0 * np.clip(1.3 - dist, 0, 1)[..., None]
    if d.blur_sigma > 0:
        out = np.asarray(cv2.GaussianBlur(out, (0, 0), d.blur_sigma))
    if d.noise_sigma > 0:
        out = out + rng.normal(0, d.noise_sigma, out.shape)
    bgr = cv2.cvtColor(np.clip(out, 0, 255).astype(np.uint8), cv2.COLOR_RGB2BGR)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality])
    assert ok
    return cv2.imdecode(buf, cv2.IMREAD_COLOR), dst


def generate_card(seed: int, side: Side, distorted: bool = False, distortion: Distortion | None = None,
                  identity: Identity | None = None, today: date | None = None,
                  portrait: np.ndarray | None = None) -> GeneratedCard:
    """One side of one card, reproducible from ``seed`` (``portrait``: an RGB photo to print on the front)."""
    rng = np.random.default_rng(seed)
    ident = identity or random_identity(rng, today)
    d = distortion or (Distortion.random(rng) if distorted else Distortion.clean())
    flat = render_side(ident, side, rng, portrait)
    image, corners = photograph(flat, d, rng)
    return GeneratedCard(side, ident, image, corners,
                         {k: float(v) for k, v in vars(d).items() if isinstance(v, int | float)}, flat)  # fmt: skip


def with_changes(identity: Identity, **changes: object) -> Identity:
    """A copy of ``identity`` with fields replaced (e.g. a printed birth date that disagrees)."""
    return replace(identity, **changes)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- problem photos

PROBLEM_KINDS = ("blurred", "glare", "card_cut_off", "not_id_card", "wrong_side")


def _text_document(rng: np.random.Generator) -> np.ndarray:
    """A photo of a page of Chinese text that is not an ID card (a notice, a receipt)."""
    page = Image.new("RGB", (900, 640), (246, 244, 238))
    draw = ImageDraw.Draw(page)
    font = _font(_CJK_SANS, 30)
    lines = ("深圳市社会保险基金管理局", "养老金领取资格认证通知", "请于本年度内完成认证手续",
             "办理地点：各区社保服务窗口", "咨询电话：12333", f"编号：{int(rng.integers(10**7, 10**8))}")  # fmt: skip
    for i, line in enumerate(lines):
        draw.text((60, 50 + i * 90), line, font=font, fill=(30, 30, 30))
    return np.dstack([np.asarray(page), np.full((640, 900), 255, np.uint8)])


def problem_case(kind: str, seed: int) -> tuple[np.ndarray, Side | None, Side]:
    """A photo showing one problem: (BGR image, side to pass as expected_side, side shown).

    ``kind`` is one of ``PROBLEM_KINDS``; the reader should report ``ocr.<kind>``.
    """
    rng = np.random.default_rng(seed)
    side: Side = "front" if rng.random() < 0.5 else "back"
    ident = random_identity(rng)
    base = Distortion.random(rng)
    if kind == "blurred":
        d = replace(base, blur_sigma=float(rng.uniform(3.5, 5.0)))
    elif kind == "glare":
        d = replace(base, glare=float(rng.uniform(0.12, 0.2)))
    elif kind == "card_cut_off":
        dx = float(rng.uniform(0.2, 0.3)) * (1 if rng.random() < 0.5 else -1)
        d = replace(base, card_fraction=0.85, offset=(dx, 0.0), keep_inside=False)
    elif kind == "not_id_card":
        if rng.random() < 0.5:
            return photograph(_text_document(rng), base, rng)[0], side, side
        faces = _portrait_sources()
        face = faces[int(rng.integers(len(faces)))]
        return cv2.cvtColor(np.ascontiguousarray(face), cv2.COLOR_RGB2BGR), side, side
    elif kind == "wrong_side":
        image, _ = photograph(render_side(ident, side, rng), base, rng)
        return image, ("back" if side == "front" else "front"), side
    else:
        raise ValueError(f"unknown problem kind {kind!r}")
    image, _ = photograph(render_side(ident, side, rng), d, rng)
    return image, side, side
