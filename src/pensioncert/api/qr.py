"""Channels and their QR codes (PNG for print, SVG for posters), plus the offline alternatives."""

from __future__ import annotations

import io
from typing import Literal

import segno
from fastapi import APIRouter, Request
from fastapi.responses import Response

from pensioncert.api.deps import SettingsDep
from pensioncert.api.schemas import ChannelOut, ErrorBody, Message
from pensioncert.certification import flow
from pensioncert.settings import Settings

router = APIRouter(prefix="/api/v1", tags=["channels"])

ONLINE = ("wechat", "alipay", "cityapp")


def channel_url(request: Request, settings: Settings, channel: str) -> str:
    """The address a poster's QR code opens: the configured public address, else this server's."""
    base = settings.flow.public_base_url.rstrip("/") or str(request.base_url).rstrip("/")
    return f"{base}/h5/{channel}"


@router.get("/channels", response_model=list[ChannelOut])
def channels(request: Request, settings: SettingsDep) -> list[ChannelOut]:
    """Every way to certify: the three phone channels (with QR codes) and the offline ones."""
    out = [
        ChannelOut(code=code, name=Message.of(f"channel.{code}.name"), kind="online",
                   url=channel_url(request, settings, code), qr_png=f"/api/v1/qr/{code}.png",
                   qr_svg=f"/api/v1/qr/{code}.svg", description=Message.of(f"channel.{code}.steps"))
        for code in ONLINE
    ]
    out += [ChannelOut(code=code.removeprefix("offline."), name=Message.of(code), kind="offline",
                       description=Message.of(f"{code}_detail")) for code in flow.OFFLINE_CHANNELS]
    return out


@router.get("/qr/{channel}.{fmt}", responses={200: {"content": {"image/png": {}, "image/svg+xml": {}}},
                                             404: {"model": ErrorBody}})
def qr_code(channel: str, fmt: Literal["png", "svg"], request: Request, settings: SettingsDep,
            scale: int = 8) -> Response:
    """The QR code of a channel's entry page, to print on posters."""
    if channel not in ONLINE:
        raise flow.FlowError("flow.bad_channel", 404, channel=channel)
    code = segno.make(channel_url(request, settings, channel), error="m")
    buffer = io.BytesIO()
    scale = max(1, min(scale, 40))
    if fmt == "png":
        code.save(buffer, kind="png", scale=scale, border=2)
        return Response(buffer.getvalue(), media_type="image/png")
    code.save(buffer, kind="svg", scale=scale, border=2, xmldecl=False)
    return Response(buffer.getvalue(), media_type="image/svg+xml")
