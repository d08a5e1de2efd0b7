"""Faces for the lookalike: detect, align, embed, and look the face up in a gallery of stars.

dlib finds the face (HOG detector), aligns it on five landmarks (eyes and nose, so a tilted head,
a beard or long hair matter less than with a plain crop) and embeds it with its face-recognition
ResNet (128 numbers, 99.38% on LFW). The weights ship inside `face_recognition_models`: no download.

The gallery is `GIRO_DATA/stars/<Star Name>/*.jpg`: a few photos per star, no training; adding a
star is adding a folder. A star's score is the distance from the face to the star's closest photo:
dlib's embeddings are trained so that two photos of one person lie under about 0.6 apart
(`SAME_PERSON`), which `likeness` puts in words.
"""

from __future__ import annotations

import importlib.util
import re
import threading
import unicodedata
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from core.atomic import atomic_path
from core.errors import FaceError, GiroError
from core.images import IMAGE_SUFFIXES, load_image
from core.settings import PHOTO_MAX_SIDE

DETECT_SIDE = 1024  # detect on a copy this large: a 12 MP phone photo would take seconds
CHIP_SIZE = 150  # what the embedding network expects
# Detector score a face needs. dlib's default (0) lets through shirt folds and shadows scoring
# about 0.1; real faces, even small or turned, score well above 0.3.
DETECT_THRESHOLD = 0.3


def _weights_folder() -> Path:
    # face_recognition_models' own helper needs pkg_resources, which current setuptools lacks.
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise GiroError("face_recognition_models is not installed: pip install -r requirements.txt")
    return Path(list(spec.submodule_search_locations)[0]) / "models"


@dataclass(frozen=True)
class Face:
    box: tuple[int, int, int, int]  # left, top, right, bottom in the photo
    chip: Image.Image  # aligned crop, as the network sees it
    descriptor: np.ndarray  # 128 floats


class FaceEmbedder:
    """dlib's detector, 5-point aligner and face-recognition ResNet. Thread-safe (one lock)."""

    def __init__(self):
        import dlib

        weights = _weights_folder()
        self._detector = dlib.get_frontal_face_detector()
        self._landmarks = dlib.shape_predictor(str(weights / "shape_predictor_5_face_landmarks.dat"))
        self._encoder = dlib.face_recognition_model_v1(str(weights / "dlib_face_recognition_resnet_model_v1.dat"))
        self._dlib = dlib
        self._lock = threading.Lock()  # dlib's objects make no thread-safety promise

    def faces(self, image: Image.Image) -> list[Face]:
        """Every face found, largest first."""
        pixels = np.asarray(image.convert("RGB"))
        scale = min(1.0, DETECT_SIDE / max(image.size))
        small = pixels if scale == 1.0 else np.asarray(
            image.convert("RGB").resize((round(image.width * scale), round(image.height * scale)))
        )
        found = []
        with self._lock:
            boxes, _, _ = self._detector.run(small, 0, DETECT_THRESHOLD)
            if not boxes:  # small faces only show up on an upsampled copy
                boxes, _, _ = self._detector.run(small, 1, DETECT_THRESHOLD)
            for box in boxes:
                rect = self._dlib.rectangle(
                    int(box.left() / scale), int(box.top() / scale),
                    int(box.right() / scale), int(box.bottom() / scale),
                )
                shape = self._landmarks(pixels, rect)
                chip = self._dlib.get_face_chip(pixels, shape, size=CHIP_SIZE, padding=0.25)
                descriptor = np.array(self._encoder.compute_face_descriptor(chip), np.float32)
                edges = (rect.left(), rect.top(), rect.right(), rect.bottom())
                found.append(Face(edges, Image.fromarray(chip), descriptor))
        return sorted(found, key=lambda f: -(f.box[2] - f.box[0]) * (f.box[3] - f.box[1]))

    def one_face(self, image: Image.Image, name: str = "the photo") -> Face:
        faces = self.faces(image)
        if not faces:
            raise FaceError(f"no face found in {name}: use a photo that shows one face, front on and well lit")
        if len(faces) > 1:
            raise FaceError(f"{len(faces)} faces found in {name}: crop the photo to the one face to match")
        return faces[0]


SAME_PERSON = 0.6  # dlib's line: embeddings of one person lie closer than this
# (distance below, words): what a distance says, from dlib's own line outwards.
LIKENESS = [(0.5, "could be the same person"), (SAME_PERSON, "very alike: near dlib's same-person line"),
            (0.7, "a resemblance"), (float("inf"), "not much alike")]


def likeness(distance: float) -> str:
    """A face distance in words: no percentage that gives every stranger 80 %."""
    return next(words for below, words in LIKENESS if distance < below)


@dataclass(frozen=True)
class StarMatch:
    star: str
    distance: float  # Euclidean distance of dlib's embeddings to the star's closest photo; < 0.6: same person
    photo: Path  # the star's photo most like the face
    chip: Image.Image  # that photo's aligned face, as the gallery embedded it


class StarGallery:
    """The stars' photos, embedded once. Read-only after construction, so safe to share.

    Given the gallery it replaces, it embeds only the photos that are new or changed: adding a
    star no longer re-embeds every photo under the shared lock (129 photos took 14.6 s).
    """

    def __init__(self, folder: Path, embedder: FaceEmbedder, previous: StarGallery | None = None):
        self.folder = folder
        self.skipped: list[str] = []  # photos without exactly one face: "Star/photo.jpg: why"
        self._known: dict[tuple[Path, float], Face | str] = {}  # photo, mtime -> face or why not
        known = previous._known if previous is not None else {}
        names, photos, chips, descriptors = [], [], [], []
        for star_dir in sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith(".")) \
                if folder.is_dir() else []:
            for photo in sorted(star_dir.iterdir()):
                if photo.suffix.lower() not in IMAGE_SUFFIXES:
                    continue
                key = (photo, photo.stat().st_mtime)
                face = self._known[key] = known.get(key) or _embed(embedder, photo, star_dir.name)
                if isinstance(face, str):
                    self.skipped.append(face)
                    continue
                names.append(star_dir.name)
                photos.append(photo)
                chips.append(face.chip)
                descriptors.append(face.descriptor)
        self.stars = sorted(set(names))
        self._names, self._photos, self._chips = names, photos, chips
        self._descriptors = np.stack(descriptors) if descriptors else np.zeros((0, 128), np.float32)

    def match(self, face: Face, top_k: int = 5) -> list[StarMatch]:
        """The `top_k` stars most like `face`, best first."""
        if not self.stars:
            raise GiroError("the star gallery has no usable photos yet")
        distances = np.linalg.norm(self._descriptors - face.descriptor, axis=1)
        matches = []
        for star in self.stars:
            closest = min((i for i, n in enumerate(self._names) if n == star), key=lambda i: distances[i])
            matches.append(StarMatch(star, float(distances[closest]), self._photos[closest], self._chips[closest]))
        return sorted(matches, key=lambda m: m.distance)[:top_k]


def _embed(embedder: FaceEmbedder, photo: Path, star: str) -> Face | str:
    """The photo's one face, or the one-line reason it has none to offer."""
    try:
        return embedder.one_face(load_image(photo, max_side=PHOTO_MAX_SIDE), name=f"{star}/{photo.name}")
    except GiroError as error:
        return str(error)


def face_chips(gallery: Path, chips: Path, embedder: FaceEmbedder) -> Path:
    """Each gallery photo's aligned face, as class folders under `chips`: what the page feeds a
    stars learner, so one is trained on the same. Photos without exactly one face are left out;
    chips already made from an unchanged photo are kept."""
    for star_dir in sorted(p for p in gallery.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for photo in sorted(p for p in star_dir.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
            target = chips / star_dir.name / f"{photo.stem}.png"
            if target.is_file() and target.stat().st_mtime >= photo.stat().st_mtime:
                continue
            face = _embed(embedder, photo, star_dir.name)
            if isinstance(face, str):
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(target) as temporary:
                face.chip.save(temporary)
    return chips


STAR_NAME = re.compile(r"[^\W\d_][\w .'-]{0,59}")  # a person's name: letters first, no slashes
MAX_STAR_PHOTOS = 12  # per star: a few good photos match best; more only slow every lookup


def star_name(text: str) -> str:
    """A star's name as the gallery keeps it, or GiroError (one line).

    NFKC folds look-alike forms (full-width letters, ligatures) into one spelling, and a name in
    one script only stops a Cyrillic "А" from passing for a Latin "A" beside a real star.
    """
    name = " ".join(unicodedata.normalize("NFKC", text).split())
    if not STAR_NAME.fullmatch(name):
        raise GiroError("a star's name is letters, spaces, dots, apostrophes and hyphens (at most 60)")
    scripts = sorted({unicodedata.name(c, "?").split()[0] for c in name if c.isalpha()})
    if len(scripts) > 1:
        raise GiroError(f"a star's name is written in one alphabet; this one mixes {' and '.join(s.title() for s in scripts)}")
    return name


def add_star(gallery: Path, name: str, photos: list[tuple[str, bytes]], embedder: FaceEmbedder) -> tuple[int, list[str]]:
    """Add photos of a star: each must show exactly one face. Returns (saved, one-line problems).

    Uploads are data: the files get names of our own, never the uploaded names. A name that
    differs from a star's only in case adds to that star.
    """
    name = star_name(name)
    existing = {p.name.casefold(): p for p in gallery.iterdir() if p.is_dir()} if gallery.is_dir() else {}
    folder = existing.get(name.casefold(), gallery / name)
    room = MAX_STAR_PHOTOS - (len([p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES])
                              if folder.is_dir() else 0)
    if room <= 0:
        raise GiroError(f"{folder.name} already has {MAX_STAR_PHOTOS} photos, the most a star keeps")
    saved, problems = 0, []
    for label, data in photos:
        if saved == room:  # failed photos take no room; what comes after a full star is not read
            problems.append(f"{label} left out: {folder.name} now has {MAX_STAR_PHOTOS} photos, the most a star keeps")
            continue
        try:
            image = load_image(data, name=label, max_side=PHOTO_MAX_SIDE)
            embedder.one_face(image, name=label)
        except GiroError as error:
            problems.append(str(error))
            continue
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_path(folder / f"{uuid.uuid4().hex[:12]}.jpg") as temporary:
            image.save(temporary, format="JPEG", quality=92)
        saved += 1
    return saved, problems
