"""A 3D textured head built from one real photo, posed and rendered by inverse texture mapping.

MediaPipe's 478-point face mesh gives the photo's face in 3D; its tessellation gives the
triangles. Rings of extra vertices around the face oval carry hair, ears and neck (alpha from
MediaPipe's selfie segmentation, so the photo's own background drops out), eye and mouth holes
get fills that stay rigid with the skull (eyeballs, upper teeth) while the lids and jaw move.

Rendering draws triangle ids into an id buffer in painter's order (``cv2.fillConvexPoly``),
then maps every covered pixel back to the texture through its triangle's barycentric affine map
and samples it with one ``cv2.remap``: a thousand triangles cost a few milliseconds.
"""

from __future__ import annotations

import collections
import hashlib
import itertools
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import cv2
import numpy as np
from numpy.typing import NDArray

F32 = NDArray[np.float32]
F64 = NDArray[np.float64]
I32 = NDArray[np.int32]

# MediaPipe face-mesh indices (see mediapipe.python.solutions.face_mesh_connections).
RIGHT_EYE_UPPER = (33, 246, 161, 160, 159, 158, 157, 173, 133)
RIGHT_EYE_LOWER = (33, 7, 163, 144, 145, 153, 154, 155, 133)
LEFT_EYE_UPPER = (263, 466, 388, 387, 386, 385, 384, 398, 362)
LEFT_EYE_LOWER = (263, 249, 390, 373, 374, 380, 381, 382, 362)
LIPS_UPPER_INNER = (78, 191, 80, 81, 82, 13, 312, 311, 310, 415, 308)
LIPS_LOWER_INNER = (78, 95, 88, 178, 87, 14, 317, 402, 318, 324, 308)
LIPS_UPPER_OUTER = (61, 185, 40, 39, 37, 0, 267, 269, 270, 409, 291)
LIPS_LOWER_OUTER = (61, 146, 91, 181, 84, 17, 314, 405, 321, 375, 291)
MOUTH_CORNERS = (61, 291)
CHIN = 152
NOSE_TIP = 1
FOREHEAD = 10
# Landmarks that move only with the skull: used to measure head pose.
RIGID_POINTS = (1, 4, 6, 10, 33, 133, 151, 168, 197, 195, 263, 362, 234, 454, 127, 356, 9, 8, 5, 168)

TEXTURE_FACE_WIDTH = 240.0  # face width (px) in the working texture
_CAVITY_RGB = (70.0, 22.0, 28.0)
_TEETH_RGB = (222.0, 212.0, 196.0)
_PATCH = 16  # height of the flat-colour band appended to the texture

_MP_LOCK = threading.Lock()


def eye_ratio(points: NDArray[np.floating], upper: tuple[int, ...], lower: tuple[int, ...]) -> float:
    """Eye opening over eye width (the usual eye-aspect ratio) from 2D points."""
    width = float(np.linalg.norm(points[upper[0], :2] - points[upper[-1], :2]))
    gaps = [np.linalg.norm(points[upper[i], :2] - points[lower[i], :2]) for i in (3, 4, 5)]
    return float(np.mean(gaps) / max(width, 1e-6))


def mouth_ratio(points: NDArray[np.floating]) -> float:
    """Inner-lip gap over mouth width from 2D points (0 for a closed mouth)."""
    width = float(np.linalg.norm(points[61, :2] - points[291, :2]))
    gap = float(np.mean([np.linalg.norm(points[a, :2] - points[b, :2]) for a, b in ((82, 87), (13, 14), (312, 317))]))
    return gap / max(width, 1e-6)


def rotation(yaw: float, pitch: float, roll: float) -> F64:
    """Rotation for angles in degrees, in camera axes (x right, y down, z away from the camera).

    Positive yaw turns the face to the subject's left (nose towards image right), positive
    pitch lifts the chin (nose up), positive roll turns the face clockwise in the image.
    ``R = Ry(yaw) @ Rx(pitch) @ Rz(roll)``; :func:`angles` inverts it.
    """
    y, p, r = np.radians([yaw, pitch, roll])
    ry = np.array([[np.cos(y), 0, -np.sin(y)], [0, 1, 0], [np.sin(y), 0, np.cos(y)]])
    rx = np.array([[1, 0, 0], [0, np.cos(p), np.sin(p)], [0, -np.sin(p), np.cos(p)]])
    rz = np.array([[np.cos(r), -np.sin(r), 0], [np.sin(r), np.cos(r), 0], [0, 0, 1]])
    return ry @ rx @ rz


def angles(rot: NDArray[np.floating]) -> tuple[float, float, float]:
    """(yaw, pitch, roll) in degrees of a rotation built as in :func:`rotation`."""
    yaw = np.degrees(np.arctan2(-rot[0, 2], rot[2, 2]))
    pitch = np.degrees(np.arcsin(np.clip(rot[1, 2], -1.0, 1.0)))
    roll = np.degrees(np.arctan2(rot[1, 0], rot[1, 1]))
    return float(yaw), float(pitch), float(roll)


def _cycle(edges: frozenset[tuple[int, int]] | set[tuple[int, int]]) -> list[int]:
    """Order the edges of one closed contour into a vertex cycle."""
    adj: dict[int, list[int]] = collections.defaultdict(list)
    for a, b in edges:
        adj[a].append(b)
        adj[b].append(a)
    start = min(adj)
    order, prev, cur = [start], -1, start
    while True:
        nxt = adj[cur][0] if adj[cur][0] != prev else adj[cur][1]
        if nxt == start:
            return order
        order.append(nxt)
        prev, cur = cur, nxt


@lru_cache(maxsize=1)
def tessellation_triangles() -> I32:
    """The face mesh's triangles: the 3-cliques of ``FACEMESH_TESSELATION``'s edges."""
    from mediapipe.python.solutions.face_mesh_connections import FACEMESH_TESSELATION

    adj: dict[int, set[int]] = collections.defaultdict(set)
    for a, b in FACEMESH_TESSELATION:
        adj[a].add(b)
        adj[b].add(a)
    tris = {tuple(sorted((a, b, c))) for a, b in FACEMESH_TESSELATION for c in adj[a] & adj[b]}
    return np.array(sorted(tris), dtype=np.int32)


def detect_landmarks(image: NDArray[np.uint8], max_faces: int = 1) -> list[F64]:
    """MediaPipe face mesh (static mode, refined) on an RGB image: list of (478, 3) pixel arrays.

    z is scaled like x (MediaPipe's convention), so the arrays are a metric 3D shape up to scale.
    """
    import mediapipe as mp

    h, w = image.shape[:2]
    with _MP_LOCK, mp.solutions.face_mesh.FaceMesh(
        static_image_mode=True, refine_landmarks=True, max_num_faces=max_faces, min_detection_confidence=0.5
    ) as mesh:
        result = mesh.process(np.ascontiguousarray(image))
    faces = []
    for face in result.multi_face_landmarks or []:
        faces.append(np.array([[p.x * w, p.y * h, p.z * w] for p in face.landmark], dtype=np.float64))
    return faces


def _person_alpha(image: NDArray[np.uint8]) -> F32:
    """Soft person mask of the photo (MediaPipe selfie segmentation) so its background drops out."""
    import mediapipe as mp

    with _MP_LOCK, mp.solutions.selfie_segmentation.SelfieSegmentation(model_selection=0) as seg:
        mask = seg.process(np.ascontiguousarray(image)).segmentation_mask
    if mask is None:
        return np.ones(image.shape[:2], np.float32)
    return np.clip((mask.astype(np.float32) - 0.25) / 0.5, 0.0, 1.0)


@dataclass
class Layer:
    """Triangles drawn in a fixed order relative to the other layers."""

    tris: I32
    sort: bool  # painter's sort by depth and back-face cull within the layer


@dataclass
class HeadModel:
    """A textured head in model coordinates (texture pixels, origin at the head pivot)."""

    texture: F32  # (H, W, 4) RGBA float 0..255 / alpha 0..1, with flat-colour patches at the bottom
    verts: F64  # (V, 3) rest vertices, model coordinates
    uv: F32  # (V, 2) texture coordinates
    alpha: F32  # (V,) per-vertex opacity (rings fade out)
    normals: F64  # (V, 3) rest normals for relighting
    layers: list[Layer]
    blink: F64  # (V, 3) displacement at eye closure 1
    jaw: F64  # (V, 3) displacement at mouth opening 1
    cavity_centre: tuple[int, int, int]  # (vertex to set, inner-lip a, inner-lip b)
    face_width: float
    neck: F64  # (2,) model point where the body attaches
    body_uv: F32  # (20, 2) texture grid of the shoulders/body below the chin
    body_model: F64  # (20, 2) the same grid in model coordinates
    body_tris: I32
    rest_eye_ratio: float
    rest_mouth_ratio: float
    key: str = field(default="")

    def pose(self, eye_closure: float, mouth_open: float) -> F64:
        """Deformed rest vertices for a blink / jaw state (both 0..1)."""
        v = self.verts + eye_closure * self.blink + mouth_open * self.jaw
        c, a, b = self.cavity_centre
        v[c] = 0.5 * (v[a] + v[b])
        v[c, 2] += 0.15 * self.face_width
        return v


def _fit_texture(photo: NDArray[np.uint8], lm: F64) -> tuple[NDArray[np.uint8], F64]:
    """Crop and scale the photo so the face is TEXTURE_FACE_WIDTH px wide; landmarks follow."""
    fw = float(np.ptp(lm[:468, 0]))
    cx, cy = lm[:468, 0].mean(), lm[:468, 1].mean()
    half = 2.2 * fw
    x0, y0 = max(0, int(cx - half)), max(0, int(cy - 1.6 * fw))
    x1, y1 = min(photo.shape[1], int(cx + half)), min(photo.shape[0], int(cy + 3.0 * fw))
    crop = photo[y0:y1, x0:x1]
    k = TEXTURE_FACE_WIDTH / fw
    interp = cv2.INTER_CUBIC if k > 1 else cv2.INTER_AREA
    tex = cv2.resize(crop, (round(crop.shape[1] * k), round(crop.shape[0] * k)), interpolation=interp)
    out = lm.copy()
    out[:, 0] = (out[:, 0] - x0) * k
    out[:, 1] = (out[:, 1] - y0) * k
    out[:, 2] *= k
    return np.asarray(tex, np.uint8), out


def _vertex_normals(verts: F64, tris: I32) -> F64:
    a, b, c = verts[tris[:, 0]], verts[tris[:, 1]], verts[tris[:, 2]]
    fn = np.cross(b - a, c - a)
    fn *= np.where(fn[:, 2:3] > 0, -1.0, 1.0)  # face the camera (-z)
    n = np.zeros_like(verts)
    for k in range(3):
        np.add.at(n, tris[:, k], fn)
    return n / np.maximum(np.linalg.norm(n, axis=1, keepdims=True), 1e-9)


def _orient(tris: I32, xy: NDArray[np.floating]) -> I32:
    """Make every triangle counter-clockwise on screen (y down) in the rest pose, for culling."""
    a, b, c = xy[tris[:, 0]], xy[tris[:, 1]], xy[tris[:, 2]]
    area = (b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0])
    out = tris.copy()
    flip = area < 0
    out[flip, 1], out[flip, 2] = tris[flip, 2], tris[flip, 1]
    return out


def _blink_field(v: F64) -> F64:
    """Displacement that closes both eyes: upper lids to just above the lower lids, skin follows."""
    d = np.zeros_like(v)
    for upper, lower in ((RIGHT_EYE_UPPER, RIGHT_EYE_LOWER), (LEFT_EYE_UPPER, LEFT_EYE_LOWER)):
        ux, uy = v[list(upper), 0], v[list(upper), 1]
        lx, ly = v[list(lower), 0], v[list(lower), 1]
        ou, ol = np.argsort(ux), np.argsort(lx)
        xmin, xmax = min(ux.min(), lx.min()), max(ux.max(), lx.max())
        hmax = float(np.max(np.interp(ux, lx[ol], ly[ol]) - uy))
        for i in range(468):
            x, y = v[i, 0], v[i, 1]
            if not xmin <= x <= xmax:
                continue
            up = float(np.interp(x, ux[ou], uy[ou]))
            lo = float(np.interp(x, lx[ol], ly[ol]))
            h = max(lo - up, 0.0)
            close = lo - 0.12 * h
            if i in upper or i in lower:
                d[i, 1] = close - y
            elif y < up:  # skin above the lid follows, fading towards the brow
                d[i, 1] = (close - up) * max(0.0, 1.0 - (up - y) / (1.6 * hmax))
            elif y > lo:  # the lower lid rises a little
                d[i, 1] = -0.12 * h * max(0.0, 1.0 - (y - lo) / (0.8 * hmax))
    return d


def _jaw_field(v: F64, fw: float) -> F64:
    """Displacement that drops the jaw: lower lip and chin down and slightly back, upper lip fixed."""
    d = np.zeros_like(v)
    xc = float(0.5 * (v[13, 0] + v[14, 0]))
    half = 0.5 * float(np.linalg.norm(v[61, :2] - v[291, :2]))
    y_corner = float(0.5 * (v[61, 1] + v[291, 1]))
    y_low = float(v[17, 1])
    y_chin = float(v[CHIN, 1])
    drop = 0.95 * half  # jaw drop at the lower lip for opening 1
    upper = set(LIPS_UPPER_INNER) | set(LIPS_UPPER_OUTER)
    lower = (set(LIPS_LOWER_INNER) | set(LIPS_LOWER_OUTER)) - set(MOUTH_CORNERS) - {78, 308}
    for i in range(468):
        x, y = v[i, 0], v[i, 1]
        if i in upper and i not in lower:
            continue
        dx = abs(x - xc)
        if i in lower:
            w = float(np.sqrt(np.clip(1.0 - (dx / (1.08 * half)) ** 2, 0.0, 1.0)))
        else:
            ramp = np.clip((y - y_corner) / max(y_low - y_corner, 1e-6), 0.0, 1.0)
            lateral = np.clip(1.0 - max(0.0, dx - 0.3 * half) / (0.55 * fw), 0.0, 1.0) ** 0.8
            w = float(ramp * lateral)
        # further from the hinge moves more (chin drops more than lips)
        reach = 1.0 + 0.35 * np.clip((y - y_low) / max(y_chin - y_low, 1e-6), 0.0, 1.0)
        d[i, 1] = drop * w * reach
        d[i, 2] = 0.25 * drop * w * reach
    return d


def build_head(photo: NDArray[np.uint8]) -> HeadModel:
    """Fit the face mesh to ``photo`` (RGB uint8) and build the textured head (cached by content)."""
    key = hashlib.sha1(np.ascontiguousarray(photo).tobytes()).hexdigest()
    return _build_head_cached(key, photo)


_HEAD_CACHE: dict[str, HeadModel] = {}


def _build_head_cached(key: str, photo: NDArray[np.uint8]) -> HeadModel:
    if key in _HEAD_CACHE:
        return _HEAD_CACHE[key]
    faces = detect_landmarks(photo)
    if not faces:
        raise ValueError("no face found in the photo: the synthetic head needs a frontal face photo")
    tex_rgb, lm = _fit_texture(photo, faces[0])
    from mediapipe.python.solutions.face_mesh_connections import (
        FACEMESH_FACE_OVAL,
        FACEMESH_LEFT_EYE,
        FACEMESH_RIGHT_EYE,
    )

    fw = float(np.ptp(lm[:468, 0]))
    alpha_tex = _person_alpha(tex_rgb)
    oval = _cycle(FACEMESH_FACE_OVAL)
    cv2.fillPoly(alpha_tex, [np.round(lm[oval, :2]).astype(np.int32)], (1.0,))
    centre = lm[oval].mean(axis=0)
    ring_specs = ((1.15, 0.25, 1.0), (1.6, 0.6, 1.0), (1.95, 0.85, 0.0))
    # Inside the first ring the head must be opaque even where the photo shows background
    # (beside the cheeks): fill those pixels from the surrounding hair and skin.
    inside = np.zeros(alpha_tex.shape, np.uint8)
    ring1 = centre[:2] + ring_specs[0][0] * (lm[oval, :2] - centre[:2])
    cv2.fillPoly(inside, [np.round(ring1).astype(np.int32)], (1,))
    hole = ((alpha_tex < 0.6) & (inside > 0)).astype(np.uint8)
    if hole.any():
        tex_rgb = np.asarray(cv2.inpaint(tex_rgb, hole, 7, cv2.INPAINT_TELEA), np.uint8)
    alpha_tex = np.maximum(alpha_tex, cv2.GaussianBlur(inside.astype(np.float32), (0, 0), 0.03 * fw))
    th, tw = tex_rgb.shape[:2]
    texture = np.zeros((th + _PATCH, tw, 4), np.float32)
    texture[:th, :, :3] = tex_rgb
    texture[:th, :, 3] = alpha_tex
    texture[th:, : tw // 2, :3] = _CAVITY_RGB
    texture[th:, tw // 2 :, :3] = _TEETH_RGB
    texture[th:, :, 3] = 1.0
    cavity_uv = (tw / 4.0, th + _PATCH / 2.0)
    teeth_uv = (3 * tw / 4.0, th + _PATCH / 2.0)

    verts: list[NDArray[np.floating]] = [lm]
    uvs: list[NDArray[np.floating]] = [lm[:, :2]]
    alphas: list[NDArray[np.floating]] = [np.ones(len(lm))]
    n = len(lm)

    def add(points: NDArray[np.floating], uv: NDArray[np.floating], alpha: float) -> NDArray[np.int32]:
        nonlocal n
        idx = np.arange(n, n + len(points), dtype=np.int32)
        verts.append(points)
        uvs.append(uv)
        alphas.append(np.full(len(points), alpha))
        n += len(points)
        return idx

    # Rings around the face oval: hair, ears, neck; pushed back like the side of a skull.
    rings: list[NDArray[np.int32]] = [np.array(oval, dtype=np.int32)]
    for scale, depth, alpha in ring_specs:
        pts = lm[oval].copy()
        pts[:, :2] = centre[:2] + scale * (pts[:, :2] - centre[:2])
        pts[:, 2] = pts[:, 2] + depth * fw
        uv = np.clip(pts[:, :2], [0, 0], [tw - 1, th - 1])
        rings.append(add(pts, uv, alpha))
    ring_tris = []
    m = len(oval)
    for inner, outer in itertools.pairwise(rings):
        for k in range(m):
            a, b = inner[k], inner[(k + 1) % m]
            c, e = outer[k], outer[(k + 1) % m]
            ring_tris += [(a, b, e), (a, e, c)]

    # Eyeballs: rigid copies of the eye contours, fanned from their centre.
    fill_tris: list[tuple[int, int, int]] = []
    for edges in (FACEMESH_RIGHT_EYE, FACEMESH_LEFT_EYE):
        cyc = _cycle(edges)
        pts = lm[cyc].copy()
        pts[:, 2] += 0.02 * fw
        idx = add(pts, lm[cyc, :2], 1.0)
        ctr = add(pts.mean(axis=0, keepdims=True), pts[:, :2].mean(axis=0, keepdims=True), 1.0)[0]
        fill_tris += [(int(ctr), int(idx[k]), int(idx[(k + 1) % len(idx)])) for k in range(len(idx))]

    # Mouth: dark cavity bounded by the moving inner lips, a band of upper teeth rigid with the skull,
    # and the photo's own mouth opening (rigid) on top.
    inner_cycle = list(LIPS_UPPER_INNER) + list(LIPS_LOWER_INNER[-2:0:-1])
    cav_c = add(lm[[13]].copy(), np.array([cavity_uv]), 1.0)[0]
    # the cavity rim: copies of the inner-lip vertices (sampling the flat patch) that move with the lips
    cav_uv_idx = add(lm[inner_cycle] + np.array([0, 0, 0.1 * fw]), np.tile(cavity_uv, (len(inner_cycle), 1)), 1.0)
    mouth_w = float(np.linalg.norm(lm[61, :2] - lm[291, :2]))
    up = lm[list(LIPS_UPPER_INNER)].copy()
    teeth_top = add(up + np.array([0, 0, 0.05 * fw]), np.tile(teeth_uv, (len(up), 1)), 1.0)
    teeth_bot = add(up + np.array([0, 0.14 * mouth_w, 0.05 * fw]), np.tile(teeth_uv, (len(up), 1)), 1.0)
    teeth_tris = []
    for k in range(len(up) - 1):
        teeth_tris += [
            (int(teeth_top[k]), int(teeth_top[k + 1]), int(teeth_bot[k + 1])),
            (int(teeth_top[k]), int(teeth_bot[k + 1]), int(teeth_bot[k])),
        ]
    rigid_mouth = add(lm[inner_cycle] + np.array([0, 0, 0.04 * fw]), lm[inner_cycle, :2], 1.0)
    rm_c = add(lm[inner_cycle].mean(axis=0, keepdims=True), lm[inner_cycle, :2].mean(axis=0, keepdims=True), 1.0)[0]
    rigid_tris = [(int(rm_c), int(rigid_mouth[k]), int(rigid_mouth[(k + 1) % len(rigid_mouth)]))
                  for k in range(len(rigid_mouth))]
    cav_tris = [(int(cav_c), int(cav_uv_idx[k]), int(cav_uv_idx[(k + 1) % len(cav_uv_idx)]))
                for k in range(len(cav_uv_idx))]

    all_v = np.concatenate(verts).astype(np.float64)
    all_uv = np.concatenate(uvs).astype(np.float32)
    all_alpha = np.concatenate(alphas).astype(np.float32)
    face_tris = tessellation_triangles()

    # Pivot: behind the face, at the level between the eyes and the chin (roughly the atlas joint).
    pivot = np.array([centre[0], 0.5 * (lm[6, 1] + lm[CHIN, 1]), centre[2] + 0.55 * fw])
    all_v = all_v - pivot

    blink = np.zeros_like(all_v)
    blink[:468] = _blink_field(all_v[:468])
    jaw = np.zeros_like(all_v)
    jaw[:468] = _jaw_field(all_v[:468], fw)
    # cavity rim vertices follow the inner lips
    jaw[cav_uv_idx] = jaw[inner_cycle]
    blink[cav_uv_idx] = blink[inner_cycle]

    xy = all_v[:, :2]
    layers = [
        Layer(_orient(np.array(ring_tris, np.int32), xy), sort=True),
        Layer(_orient(np.array(cav_tris, np.int32), xy), sort=False),
        Layer(_orient(np.array(teeth_tris, np.int32), xy), sort=False),
        Layer(_orient(np.array(rigid_tris, np.int32), xy), sort=False),
        Layer(_orient(np.array(fill_tris, np.int32), xy), sort=False),
        Layer(_orient(face_tris, xy), sort=True),
    ]
    normals = all_v - np.array([0.0, 0.0, 0.0])
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)
    normals[:, 2] = np.minimum(normals[:, 2], -0.2)
    normals[:468] = _vertex_normals(all_v[:468], face_tris)
    normals /= np.maximum(np.linalg.norm(normals, axis=1, keepdims=True), 1e-9)

    chin_y = float(lm[CHIN, 1])
    body_top = min(chin_y + 0.05 * fw, th - 2.0)
    gx, gy = np.meshgrid(np.linspace(0, tw - 1, 5), np.linspace(body_top, th - 1, 4))
    body_uv = np.column_stack([gx.ravel(), gy.ravel()]).astype(np.float32)
    body_tris = []
    for r in range(3):
        for q in range(4):
            k = r * 5 + q
            body_tris += [(k, k + 1, k + 6), (k, k + 6, k + 5)]
    neck = np.array([centre[0], body_top]) - pivot[:2]

    head = HeadModel(
        texture=texture,
        verts=all_v,
        uv=all_uv,
        alpha=all_alpha,
        normals=normals,
        layers=layers,
        blink=blink,
        jaw=jaw,
        cavity_centre=(int(cav_c), 13, 14),
        face_width=fw,
        neck=neck,
        body_uv=body_uv,
        body_model=body_uv.astype(np.float64) - pivot[:2],
        body_tris=np.array(body_tris, np.int32),
        rest_eye_ratio=0.5 * (eye_ratio(lm, RIGHT_EYE_UPPER, RIGHT_EYE_LOWER)
                              + eye_ratio(lm, LEFT_EYE_UPPER, LEFT_EYE_LOWER)),
        rest_mouth_ratio=mouth_ratio(lm),
        key=key,
    )
    _HEAD_CACHE[key] = head
    return head
