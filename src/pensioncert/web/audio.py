"""Bundled spoken prompts for browsers without a speech-synthesis voice.

Headless browsers and several in-app browsers (WeChat's and Alipay's on some phones) have no
``speechSynthesis`` voice for Chinese, so the page plays these recordings instead. They are
made at build time from the message catalogue with espeak-ng and committed (MP3, mono,
24 kbit/s: about 270 KB for both languages); nothing is fetched or synthesised at run time.
Regenerate after changing a spoken text: ``python -m pensioncert.web.audio``.

Mandarin is read from tone-numbered pinyin (``espeak-ng -v cmn-latn-pinyin``): given Chinese
characters, espeak-ng guesses readings character by character and gets polyphones wrong. The
pinyin for each prompt is written here next to the text it reads, and ``check_pinyin``
refuses a syllable espeak-ng would not read as pinyin (checked with ``-x``).
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import tempfile
import wave
from pathlib import Path
from typing import Any

import numpy as np

from pensioncert import messages

AUDIO_DIR = Path(__file__).resolve().parent / "static" / "audio"
MANIFEST = AUDIO_DIR / "manifest.json"

# code -> tone-numbered pinyin of its zh text (one syllable per Han character, in order).
PINYIN: dict[str, str] = {
    "challenge.action.blink": "qing3 zha3 zha3 yan3",
    "challenge.action.open_mouth": "qing3 zhang1 zhang1 zui3",
    "challenge.action.turn_left": "qing3 xiang4 zuo3 zhuan3 tou2",
    "challenge.action.turn_right": "qing3 xiang4 you4 zhuan3 tou2",
    "challenge.action.nod": "qing3 dian3 dian3 tou2",
    "web.ready.no_face": "mei2 you3 kan4 dao4 lian3, qing3 ba3 lian3 dui4 zhun3 ping2 mu4 shang4 de5 yuan2 quan1",
    "web.ready.many_faces": "hua4 mian4 li3 you3 duo1 zhang1 lian3, qing3 zhi3 liu2 ben3 ren2 zai4 jing4 tou2 qian2",
    "web.ready.into_circle": "qing3 ba3 lian3 yi2 dao4 yuan2 quan1 zhong1 jian1",
    "web.ready.closer": "qing3 kao4 jin4 yi4 dian3",
    "web.ready.farther": "qing3 li2 yuan3 yi4 dian3",
    "web.ready.too_dark": "tai4 an4 le5, qing3 dao4 liang4 yi4 dian3 de5 di4 fang1",
    "web.ready.too_bright": "tai4 liang4 le5, qing3 bi4 kai1 qiang2 guang1",
    "web.ready.hold_still": "qing3 bao3 chi2 bu2 dong4",
    "web.ready.ok": "hen3 hao3! qing3 dian3 xia4 mian4 de5 an4 niu3",
    "web.speak.start": "qing3 ba3 lian3 fang4 ru4 yuan2 quan1 nei4",
    "web.speak.passed": "ren4 zheng4 cheng2 gong1",
    "web.speak.failed": "ren4 zheng4 wei4 tong1 guo4, qing3 an4 ti2 shi4 tiao2 zheng3 hou4 chong2 shi4",
    "web.look_at_circle": "qing3 kan4 zhe5 yuan2 quan1, deng3 dai4 ti2 shi4",
    "web.digits_intro": ("lu4 zhi4 kai1 shi3 hou4, ping2 mu4 shang4 hui4 zhu2 ge4 chu1 xian4 shu4 zi4, "
                         "chu1 xian4 yi2 ge4 jiu4 da4 sheng1 du2 yi2 ge4"),
    "web.actions_intro": ("lu4 zhi4 kai1 shi3 hou4, qing3 an4 ping2 mu4 shang4 de5 ti2 shi4 zuo4 dong4 zuo4, "
                          "yi2 ci4 yi2 ge4"),
}
SPOKEN = tuple(PINYIN)

VOICES = {"zh": ("cmn-latn-pinyin", 130), "en": ("en-us", 140)}  # espeak-ng voice, words per minute
BITRATE = 16_000  # MPEG-2 layer III at 16 kHz: clear speech, ~2 KB a second
RATE = 16_000

_SYLLABLE = re.compile(
    r"^(zh|ch|sh|[bpmfdtnlgkhjqxrzcsyw])?"
    r"(iang|iong|uang|ueng|ang|eng|ing|ong|ian|iao|uai|uan|van|ai|ei|ao|ou|an|en|in|un|vn|ia|ie|iu|ua|uo|ui|ue|ve|er"
    r"|a|o|e|i|u|v)[1-5]$")
_HAN = re.compile(r"[\u4e00-\u9fff]")


def syllables(pinyin: str) -> list[str]:
    return re.findall(r"[a-zü]+[1-5]?", pinyin.lower())


def check_pinyin(code: str, pinyin: str, text: str) -> None:
    """Refuse pinyin that does not read ``text``: one valid syllable per Han character."""
    parts = syllables(pinyin)
    bad = [p for p in parts if not _SYLLABLE.match(p)]
    if bad:
        raise ValueError(f"{code}: not tone-numbered pinyin: {bad}")
    if len(parts) != len(_HAN.findall(text)):
        raise ValueError(f"{code}: {len(parts)} syllables for {len(_HAN.findall(text))} characters in {text!r}")
    phonemes = subprocess.run(["espeak-ng", "-v", VOICES["zh"][0], "-q", "-x", pinyin], check=True,
                              capture_output=True, text=True).stdout
    if "(en)" in phonemes or len(re.findall(r"_\|", phonemes)) < len(parts):
        raise ValueError(f"{code}: espeak-ng does not read {pinyin!r} as pinyin: {phonemes!r}")


def synthesise(text: str, lang: str) -> tuple[np.ndarray, int]:
    """espeak-ng's speech for ``text`` as int16 mono samples and their rate."""
    voice, speed = VOICES[lang]
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "out.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", str(speed), "-w", str(path), text], check=True,
                       capture_output=True)
        with wave.open(str(path)) as w:
            rate = w.getframerate()
            samples = np.frombuffer(w.readframes(w.getnframes()), np.int16)
    return samples, rate


def trim(samples: np.ndarray, rate: int) -> np.ndarray:
    """Without the silence espeak-ng leaves around the speech (keeps 50 ms either side)."""
    loud = np.flatnonzero(np.abs(samples.astype(np.int32)) > 300)
    if not loud.size:
        return samples
    pad = rate // 20
    return samples[max(0, loud[0] - pad): loud[-1] + pad]


def resample(samples: np.ndarray, rate: int, target: int = RATE) -> np.ndarray:
    """Linear resampling to ``target`` Hz (espeak-ng's 22 050 Hz speech has little above 8 kHz)."""
    if rate == target:
        return samples
    n = int(round(len(samples) * target / rate))
    positions = np.arange(n) * (rate / target)
    return np.interp(positions, np.arange(len(samples)), samples.astype(np.float32)).astype(np.int16)


def mp3(samples: np.ndarray, rate: int) -> bytes:
    """Mono MP3 (every phone browser plays it; Ogg/Opus fails on older iPhones)."""
    import av

    samples = resample(trim(samples, rate), rate)
    rate = RATE
    buffer = io.BytesIO()
    with av.open(buffer, "w", format="mp3") as out:
        stream: Any = out.add_stream("libmp3lame", rate=rate)
        stream.bit_rate = BITRATE
        stream.layout = "mono"
        frame = av.AudioFrame.from_ndarray(samples.reshape(1, -1), format="s16", layout="mono")
        frame.sample_rate = rate
        for packet in stream.encode(frame):
            out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buffer.getvalue()


def texts(code: str) -> dict[str, str]:
    return {"zh": messages.text(code, "zh-CN"), "en": messages.text(code, "en")}


def build(folder: Path = AUDIO_DIR) -> dict[str, dict[str, str]]:
    """Write ``{zh,en}/<code>.mp3`` for every spoken prompt and a manifest of the texts read."""
    manifest: dict[str, dict[str, str]] = {}
    for code in SPOKEN:
        said = texts(code)
        check_pinyin(code, PINYIN[code], said["zh"])
        for lang, text in (("zh", PINYIN[code]), ("en", said["en"])):
            (folder / lang).mkdir(parents=True, exist_ok=True)
            (folder / lang / f"{code}.mp3").write_bytes(mp3(*synthesise(text, lang)))
        manifest[code] = said
    (folder / "manifest.json").write_text(json.dumps(manifest, ensure_ascii=False, indent=1, sort_keys=True) + "\n",
                                          encoding="utf-8")
    return manifest


if __name__ == "__main__":
    made = build()
    total = sum(p.stat().st_size for p in AUDIO_DIR.rglob("*.mp3"))
    print(f"{len(made)} prompts x 2 languages, {total / 1024:.0f} KB in {AUDIO_DIR}")
