"""Rasterise posed heads (and flat textured quads) into a frame by inverse texture mapping."""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np
from numpy.typing import NDArray

from pensioncert.synth.head import (
    LEFT_EYE_LOWER,
    LEFT_EYE_UPPER,
    RIGHT_EYE_LOWER,
    RIGHT_EYE_UPPER,
    HeadModel,
    eye_ratio,
    mouth_ratio,
    rotation,
)

_LIGHT = np.array([0.25, -0.35, -1.0]) / np.linalg.norm([0.25, -0.35, -1.0])
_SUB = 16  # fillConvexPoly sub-pixel shift 4


@dataclass
class Pose:
    """Where and how one head appears in one frame."""

    yaw: float = 0.0
    pitch: float = 0.0
    roll: float = 0.0
    eye_closure: float = 0.0
    mouth_open: float = 0.0
    x: float = 320.0  # screen position of the head pivot
    y: float = 275.0
    scale: float = 0.8  # screen px per texture px
    body: bool = True


@dataclass
class Drawn:
    """What the renderer knows about a head it drew: the truth for this frame."""

    landmarks: NDArray[np.float64]  # (478, 2) screen positions of the mesh points
    box: tuple[float, float, float, float]
    eye_ratio: float
    mouth_ratio: float


def rasterise(
    canvas: NDArray[np.float32],
    texture: NDArray[np.float32],
    xy: NDArray[np.float64],
    uv: NDArray[np.float32],
    valpha: NDArray[np.float32],
    shade: NDArray[np.float64],
    tris: NDArray[np.int32],
) -> None:
    """Draw textured triangles onto ``canvas`` (float RGB, in place); later triangles win."""
    h_img, w_img = canvas.shape[:2]
    used = xy[np.unique(tris)]
    x0, y0 = np.floor(used.min(axis=0)).astype(int) - 1
    x1, y1 = np.ceil(used.max(axis=0)).astype(int) + 2
    x0, y0, x1, y1 = max(x0, 0), max(y0, 0), min(x1, w_img), min(y1, h_img)
    if x1 <= x0 or y1 <= y0:
        return
    a, b, c = xy[tris[:, 0]], xy[tris[:, 1]], xy[tris[:, 2]]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    keep = np.abs(area) > 1e-3
    tris = tris[keep]
    if len(tris) == 0:
        return
    ids = np.full((y1 - y0, x1 - x0), -1, np.int32)
    pts = np.round((xy - [x0, y0]) * _SUB).astype(np.int32)
    fill = cv2.fillConvexPoly
    for t, tri in enumerate(pts[tris]):
        fill(ids, tri, (t,), cv2.LINE_8, 4)
    # Every attribute (u, v, opacity, shade) is affine in (x, y) over a triangle: f = cx*x + cy*y + c0.
    tx, ty = xy[tris][:, :, 0] - x0, xy[tris][:, :, 1] - y0
    attrs = np.stack([uv[tris][:, :, 0], uv[tris][:, :, 1], valpha[tris], shade[tris]], axis=2)  # (T, 3, 4)
    ex_b, ex_c = (tx[:, 1] - tx[:, 0])[:, None], (tx[:, 2] - tx[:, 0])[:, None]
    ey_b, ey_c = (ty[:, 1] - ty[:, 0])[:, None], (ty[:, 2] - ty[:, 0])[:, None]
    det = ex_b * ey_c - ex_c * ey_b
    df_b, df_c = attrs[:, 1] - attrs[:, 0], attrs[:, 2] - attrs[:, 0]
    cx = (df_b * ey_c - df_c * ey_b) / det
    cy = (df_c * ex_b - df_b * ex_c) / det
    c0 = attrs[:, 0] - cx * tx[:, :1] - cy * ty[:, :1]
    # gather the per-triangle coefficients per pixel with remap (a C-speed table lookup)
    idmap = ids.astype(np.float32)
    zero = np.zeros_like(idmap)
    look = [
        cv2.remap(k.astype(np.float32)[None], idmap, zero, cv2.INTER_NEAREST,
                  borderMode=cv2.BORDER_CONSTANT, borderValue=(0.0,) * 4)
        for k in (cx, cy, c0)
    ]
    gx = np.arange(ids.shape[1], dtype=np.float32)[None, :, None]
    gy = np.arange(ids.shape[0], dtype=np.float32)[:, None, None]
    val = look[0] * gx + look[1] * gy + look[2]
    inside = ids >= 0
    map_x = np.where(inside, val[:, :, 0], -10.0).astype(np.float32)
    map_y = np.where(inside, val[:, :, 1], -10.0).astype(np.float32)
    sampled = cv2.remap(texture, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT,
                        borderValue=(0.0,) * 4)
    opacity = np.clip(val[:, :, 2], 0.0, 1.0)
    gain = val[:, :, 3]
    cover = cv2.blur((ids >= 0).astype(np.float32), (3, 3)) * (ids >= 0)
    alpha = (sampled[:, :, 3] * opacity * cover)[:, :, None]
    roi = canvas[y0:y1, x0:x1]
    roi *= 1.0 - alpha
    roi += alpha * sampled[:, :, :3] * gain[:, :, None]


def draw_head(canvas: NDArray[np.float32], head: HeadModel, pose: Pose, camera_distance: float = 5.0) -> Drawn:
    """Pose, light and draw ``head`` (with its shoulders) onto ``canvas``; return the frame's truth."""
    rot = rotation(pose.yaw, pose.pitch, pose.roll)
    v = head.pose(pose.eye_closure, pose.mouth_open) @ rot.T
    dist = camera_distance * head.face_width
    persp = dist / (dist + v[:, 2])
    xy = np.empty((len(v), 2))
    xy[:, 0] = pose.x + pose.scale * v[:, 0] * persp
    xy[:, 1] = pose.y + pose.scale * v[:, 1] * persp
    n = head.normals @ rot.T
    shade = np.clip(1.0 + 0.8 * (n @ _LIGHT - head.normals @ _LIGHT), 0.45, 1.3)

    order: list[NDArray[np.int32]] = []
    for layer in head.layers:
        tris = layer.tris
        if layer.sort:
            a, b, c = xy[tris[:, 0]], xy[tris[:, 1]], xy[tris[:, 2]]
            area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
            tris = tris[area > 0]
            depth = v[tris].mean(axis=1)[:, 2]
            tris = tris[np.argsort(-depth, kind="stable")]
        order.append(tris)
    tris = np.concatenate(order)
    if pose.body:  # shoulders first, in the same pass
        body_xy = _body_xy(head, pose)
        nb = len(xy)
        xy_all = np.concatenate([xy, body_xy])
        uv_all = np.concatenate([head.uv, head.body_uv])
        alpha_all = np.concatenate([head.alpha, np.ones(len(body_xy), np.float32)])
        shade_all = np.concatenate([shade, np.ones(len(body_xy))])
        tris = np.concatenate([head.body_tris + nb, tris])
        rasterise(canvas, head.texture, xy_all, uv_all, alpha_all, shade_all, tris)
    else:
        rasterise(canvas, head.texture, xy, head.uv, head.alpha, shade, tris)

    lm = xy[:478]
    box = (float(lm[:, 0].min()), float(lm[:, 1].min()), float(lm[:, 0].max()), float(lm[:, 1].max()))
    er = 0.5 * (eye_ratio(lm, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER) + eye_ratio(lm, LEFT_EYE_UPPER, LEFT_EYE_LOWER))
    return Drawn(landmarks=lm.copy(), box=box, eye_ratio=er, mouth_ratio=mouth_ratio(lm))


def _body_xy(head: HeadModel, pose: Pose) -> NDArray[np.float64]:
    """Shoulders: the photo below the chin as a flat grid that sways a little with the head."""
    body_shift = np.array([np.sin(np.radians(pose.yaw)) * 0.08, 0.0]) * head.face_width
    rot = np.radians(pose.roll * 0.3)
    c, s = np.cos(rot), np.sin(rot)
    local = (head.body_model - head.neck) @ np.array([[c, s], [-s, c]]) + head.neck + body_shift
    return np.column_stack([pose.x + pose.scale * local[:, 0], pose.y + pose.scale * local[:, 1]])


# Upper face oval of the 478-point mesh, from the right temple over the forehead to the left one.
_FOREHEAD_OVAL = (127, 162, 21, 54, 103, 67, 109, 10, 338, 297, 332, 284, 251, 389, 356)


def draw_glasses(canvas: NDArray[np.float32], drawn: Drawn, colour: tuple[float, float, float] = (28.0, 24.0, 22.0),
                 ) -> None:
    """Dark-rimmed glasses over the eyes of a drawn head: rims, bridge and the start of the arms.

    Drawn from the head's own mesh points in this frame, so they turn and nod with it; the
    lenses are clear, as a reader's glasses are (the eyes and blinks stay visible).
    """
    lm = drawn.landmarks
    iod = float(np.linalg.norm(lm[468 if len(lm) > 468 else 33] - lm[473 if len(lm) > 473 else 263]))
    iod = max(iod, float(np.linalg.norm(lm[133] - lm[362])) * 1.6, 8.0)
    thick = max(2, int(round(0.05 * iod)))
    centres = []
    for outer, inner in ((33, 133), (263, 362)):
        a, b = lm[outer], lm[inner]
        centre = (a + b) / 2 + np.array([0.0, 0.02 * iod])
        width = float(np.linalg.norm(a - b))
        angle = float(np.degrees(np.arctan2(b[1] - a[1], b[0] - a[0])))
        axes = (max(2, int(round(0.85 * width))), max(2, int(round(0.55 * width))))
        cv2.ellipse(canvas, (int(round(centre[0])), int(round(centre[1]))), axes, angle, 0, 360, colour, thick,
                    cv2.LINE_AA)
        centres.append((centre, width, a))
    (c_r, w_r, _), (c_l, w_l, _) = centres
    gap = max(float(np.linalg.norm(c_l - c_r)), 1e-6)
    bridge = [c_r + (c_l - c_r) * (0.5 - 0.425 * w_r / gap), c_r + (c_l - c_r) * (0.5 + 0.425 * w_l / gap)]
    p0, p1 = (tuple(int(round(v)) for v in p) for p in bridge)
    cv2.line(canvas, p0, p1, colour, thick, cv2.LINE_AA)
    for eye, temple in ((33, 127), (263, 356)):  # arms towards the ears
        a = lm[eye] + (lm[eye] - lm[133 if eye == 33 else 362]) * 0.7
        b = lm[temple]
        cv2.line(canvas, tuple(int(round(v)) for v in a), tuple(int(round(v)) for v in b), colour, thick,
                 cv2.LINE_AA)


def draw_hat(canvas: NDArray[np.float32], drawn: Drawn, colour: tuple[float, float, float] = (52.0, 58.0, 92.0),
             ) -> None:
    """A soft cap over the top of a drawn head: crown above the hairline, brim at the top of the forehead.

    It covers the hair and the top of the forehead, never the eyebrows, as a cap worn indoors does.
    """
    lm = drawn.landmarks
    oval = lm[list(_FOREHEAD_OVAL[1:-1])]  # temples excluded: a cap ends above the ears
    brow = lm[[70, 63, 105, 66, 107, 336, 296, 334, 293, 300]]
    top, chin = lm[10], lm[152]
    up = (top - chin) / max(float(np.linalg.norm(top - chin)), 1e-6)
    span = float(np.linalg.norm(lm[127] - lm[356]))
    # brim: between the forehead top and the brows (about a third of the way down from the top)
    brim = oval + (brow.mean(axis=0) - top) * 0.3
    brim[0] -= (lm[356] - lm[127]) * 0.08
    brim[-1] += (lm[356] - lm[127]) * 0.08
    bump = np.sin(np.linspace(0.15, np.pi - 0.15, len(oval)))[:, None]  # a rounded crown
    crown = (oval + up * span * (0.12 + 0.3 * bump))[::-1]
    poly = np.round(np.concatenate([brim, crown])).astype(np.int32)
    cv2.fillPoly(canvas, [poly], colour, cv2.LINE_AA)
    shade = tuple(0.7 * c for c in colour)
    cv2.polylines(canvas, [np.round(brim).astype(np.int32)], False, shade, max(2, int(round(0.03 * span))),
                  cv2.LINE_AA)
