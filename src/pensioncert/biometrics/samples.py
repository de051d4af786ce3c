"""Real face photos that ship inside installed packages.

No labelled face set ships with any package, so the development set and other
concerns (synthetic talking heads, ID-card generator) start from the few real
portraits that packages carry as sample or documentation images:

* ``scikit-image`` (always installed): ``skimage/data/astronaut.png`` (Eileen Collins, NASA).
* ``matplotlib`` (always installed): ``mpl-data/sample_data/grace_hopper.jpg``.
* Debian ``opencv-doc`` (optional, ``apt-get install opencv-doc``): tutorial images under
  ``/usr/share/doc/opencv-doc/opencv4/html`` — single portraits, a Yale face-database
  subject under four lightings, and mosaics of 24 + 12 + 4 distinct faces that we cut
  into cells. Some carry drawn landmarks (``annotated=True``).

The Lena image in opencv-doc is deliberately left out (its subject asked for it to be
retired; IEEE journals no longer accept it). Files that are absent are skipped, so
the list only holds what this machine really has.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from pensioncert.biometrics.results import RGBImage

OPENCV_DOC_HTML = Path("/usr/share/doc/opencv-doc/opencv4/html")


@dataclass(frozen=True)
class SamplePhoto:
    """One real face: a file (optionally a cell of it) and who it shows.

    ``person`` is an identity label: two samples with the same label show the same
    person (the only real same-person pairs we have); different labels are different people.
    """

    name: str
    person: str
    path: Path
    source: str
    crop: tuple[int, int, int, int] | None = None  # left, top, right, bottom in file pixels
    annotated: bool = False  # landmarks, boxes or circles were drawn on the face
    note: str = ""

    def load(self) -> RGBImage:
        """The photo (or its cell) as RGB ``uint8``."""
        from pensioncert.biometrics.loading import load_image

        image = load_image(self.path)
        if self.crop is not None:
            left, top, right, bottom = self.crop
            image = image[top:bottom, left:right].copy()
        return image


def _package_dir(name: str) -> Path | None:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(next(iter(spec.submodule_search_locations)))


def _grid(
    stem: str, file: str, rows: int, cols: int, size: tuple[int, int], *, only_rows: int | None = None,
    annotated: bool = True, note: str = "",
) -> list[SamplePhoto]:
    """Cells of a mosaic in which every cell is a different person."""
    width, height = size
    cell_w, cell_h = width / cols, height / rows
    cells = []
    for row in range(only_rows if only_rows is not None else rows):
        for col in range(cols):
            crop = (round(col * cell_w), round(row * cell_h), round((col + 1) * cell_w), round((row + 1) * cell_h))
            cells.append(
                SamplePhoto(
                    name=f"{stem}_r{row}c{col}",
                    person=f"{stem}_r{row}c{col}",
                    path=OPENCV_DOC_HTML / file,
                    source="debian:opencv-doc",
                    crop=crop,
                    annotated=annotated,
                    note=note,
                )
            )
    return cells


def _opencv_doc_photos() -> list[SamplePhoto]:
    doc = "debian:opencv-doc"
    html = OPENCV_DOC_HTML
    photos = [
        SamplePhoto("ocv_smiling_man", "ocv_smiling_man", html / "227943776_1.jpg", doc,
                    note="face-swap tutorial source portrait"),
        SamplePhoto("ocv_goatee_man", "ocv_goatee_man", html / "230501201_1.jpg", doc,
                    note="face-swap tutorial target portrait"),
        SamplePhoto("ocv_older_man", "ocv_older_man", html / "ab-1.jpg", doc, annotated=True,
                    note="facemark tutorial, red landmark dots and box"),
        SamplePhoto("ocv_long_hair", "ocv_long_hair", html / "ab.jpg", doc, annotated=True,
                    note="facemark tutorial, red landmark dots and box"),
        SamplePhoto("ocv_glasses_man_1", "ocv_glasses_man", html / "example.jpg", doc, crop=(0, 0, 387, 580),
                    note="face-alignment example, left panel"),
        SamplePhoto("ocv_glasses_man_2", "ocv_glasses_man", html / "example.jpg", doc,
                    crop=(775, 0, 1162, 580), note="face-alignment example, right panel (another frame)"),
        SamplePhoto("ocv_actress_a", "ocv_actress_a", html / "05.jpg", doc, crop=(0, 0, 512, 460),
                    note="edge-detection tutorial source panel"),
        SamplePhoto("ocv_actress_b", "ocv_actress_b", html / "12.jpg", doc, crop=(0, 0, 512, 460),
                    note="edge-detection tutorial source panel"),
        SamplePhoto("ocv_webcam_woman", "ocv_webcam_woman",
                    html / "Cascade_Classifier_Tutorial_Result_Haar.jpg", doc, crop=(0, 23, 642, 503),
                    annotated=True, note="webcam frame, circles drawn around face and eyes"),
    ]
    # Yale face database subject under four lightings: real same-person variation.
    for index, lighting in enumerate(("side", "dim", "bright", "dark")):
        photos.append(
            SamplePhoto(f"ocv_yale_{lighting}", "ocv_yale_subject", html / "lbp_yale.jpg", doc,
                        crop=(index * 166, 0, (index + 1) * 166, 190), note=f"Yale subject, {lighting} light")
        )
    photos += _grid("ocv_mosaic24", "2.jpg", 3, 8, (730, 276), note="facemark mosaic, white landmark dots")
    photos += _grid("ocv_mosaic12", "3.jpg", 2, 6, (415, 139), note="facemark mosaic, green contours")
    photos += _grid("ocv_facereg", "facereg.jpg", 2, 2, (200, 200), note="facemark mosaic, yellow contours")
    return photos


@lru_cache(maxsize=1)
def sample_photos() -> list[SamplePhoto]:
    """Every real face photo found on this machine, most useful (clean, large) first."""
    photos: list[SamplePhoto] = []
    skimage_dir = _package_dir("skimage")
    if skimage_dir is not None:
        photos.append(
            SamplePhoto("astronaut", "eileen_collins", skimage_dir / "data" / "astronaut.png", "pypi:scikit-image",
                        note="NASA portrait of Eileen Collins")
        )
    matplotlib_dir = _package_dir("matplotlib")
    if matplotlib_dir is not None:
        photos.append(
            SamplePhoto("grace_hopper", "grace_hopper",
                        matplotlib_dir / "mpl-data" / "sample_data" / "grace_hopper.jpg", "pypi:matplotlib",
                        note="US Navy portrait of Grace Hopper, wears clear glasses")
        )
    photos += _opencv_doc_photos()
    return [photo for photo in photos if photo.path.is_file()]
