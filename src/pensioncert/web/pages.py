"""The phone (H5) pages: one entry per channel, the query page, Q&A and offline channels.

Pages are server-rendered in the chosen language (``?lang=en``; Chinese by default)
and drive the public API from ``static/app.js``. Every text comes from the message
catalogue, so the pages and the API say the same thing in the same words.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from pensioncert import messages
from pensioncert.certification import flow

_HERE = Path(str(resources.files("pensioncert.web")))
templates = Jinja2Templates(directory=str(_HERE / "templates"))
router = APIRouter(include_in_schema=False)

ONLINE = ("wechat", "alipay", "cityapp")
HELP_TOPICS = ("when", "sure", "abnormal", "not_yet", "failed", "who", "other")
# Codes the page script shows itself (prompts, results), sent along in the page's language.
_SCRIPT_PREFIXES = ("web.", "challenge.", "advice.", "offline.", "result.", "channel.", "history.")


def page_language(request: Request) -> str:
    """``?lang=`` wins, then the browser's first language; Chinese unless English was asked for."""
    asked = request.query_params.get("lang") or request.headers.get("accept-language", "")[:2]
    return "en" if asked.lower().startswith("en") else "zh-CN"


def _context(request: Request, **extra: Any) -> dict[str, Any]:
    lang = page_language(request)

    def t(code: str, **params: Any) -> str:
        return messages.text(code, lang, **params)

    other = "zh-CN" if lang == "en" else "en"
    return {
        "request": request,
        "lang": lang,
        "t": t,
        "switch_url": f"{request.url.path}?lang={other}",
        "lang_q": f"?lang={lang}",
        "offline_channels": flow.OFFLINE_CHANNELS,
        **extra,
    }


AUDIO_DIR = _HERE / "static" / "audio"
# How often the face step sends a preview frame to the readiness check, and how often the
# result page looks again while a reviewer decides.
READINESS_MS = 500
FOLLOW_MS = 4000


def bundled_audio() -> list[str]:
    """Prompt keys with a bundled recording in both languages (scripts/make_prompt_audio.py)."""
    def keys(lang: str) -> set[str]:
        folder = AUDIO_DIR / lang
        return {path.stem for path in folder.glob("*.mp3")} if folder.is_dir() else set()

    return sorted(keys("zh") & keys("en"))


def channel_script(lang: str, channel: str | None, page: str) -> dict[str, Any]:
    """What the page script reads from the page: its texts, bundled audio and timings."""
    return {"lang": lang, "page": page, "channel": channel, "msgs": script_messages(lang),
            "audio": bundled_audio(), "audio_base": "/static/h5/audio/",
            "readiness_ms": READINESS_MS, "follow_ms": FOLLOW_MS}


def script_messages(lang: str) -> dict[str, str]:
    key = "en" if lang == "en" else "zh"
    return {code: entry[key] for code, entry in messages.catalogue().items() if code.startswith(_SCRIPT_PREFIXES)}


@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "index.html", _context(request, channels=ONLINE))


@router.get("/h5/query", response_class=HTMLResponse)
def query_page(request: Request) -> HTMLResponse:
    ctx = _context(request, page="query")
    ctx["script"] = channel_script(ctx["lang"], None, "query")
    return templates.TemplateResponse(request, "query.html", ctx)


@router.get("/h5/help", response_class=HTMLResponse)
def help_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "help.html", _context(request, topics=HELP_TOPICS))


@router.get("/h5/offline", response_class=HTMLResponse)
def offline_page(request: Request) -> HTMLResponse:
    return templates.TemplateResponse(request, "offline.html", _context(request))


@router.get("/h5/{channel}", response_class=HTMLResponse)
def channel_page(request: Request, channel: str) -> HTMLResponse:
    """One channel's entry page: the seed's steps for that channel, in order."""
    if channel not in ONLINE:
        return templates.TemplateResponse(request, "index.html", _context(request, channels=ONLINE), status_code=404)
    ctx = _context(request, channel=channel, page="channel")
    ctx["script"] = channel_script(ctx["lang"], channel, "channel")
    return templates.TemplateResponse(request, "channel.html", ctx)


def mount_pages(app: FastAPI) -> None:
    app.mount("/static/h5", StaticFiles(directory=str(_HERE / "static")), name="h5-static")
    app.include_router(router)
