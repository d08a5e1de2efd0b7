"""Live Dream: frames stream from a background thread while the page changes the settings.

Each frame is the last one zoomed in about the vanishing point and redrawn by img2img with the
settings of that moment; with cadence k only every k-th frame is redrawn and the ones between are
the zoom alone (no look-ahead, so a change shows at once). A change drops the frame being
denoised (at the next step) for one made with it, and every frame carries the settings it was
made with. The prompt is encoded once per change. Nothing goes to disk. A/B
(`LiveSettings.compare`): two or four values of one setting stream side by side, each its own
ride, all redrawn in one model call a frame.

One stream per server (`LiveHall`): the GPU is one. The session that started it steers it; the
others watch. It stops when its tab stops asking for frames (`lost_seconds`), after `idle_seconds`
without a change, or when told; its thread ends with it. A render has priority: while the queue
runs one, the stream waits between frames.
"""

from __future__ import annotations

import collections
import math
import secrets
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, field, replace

import numpy as np
import torch

from core.dream.broadcast import Broadcast
from core.dream.colour import Palette, palette
from core.dream.pipelines import DreamPipelines, Variant
from core.dream.stage import MAX_PROMPT_CHARS, RANGES
from core.dream.step import Hold, HostFrame, advance, start_frame
from core.dream.camera import Camera, step_warp
from core.dream.zoom import to_float
from core.errors import GiroError, first_line

HISTORY = 24  # frames kept for the page's strip: the last two seconds or so on a GPU
SIZES = (128, 256, 384, 512)  # the live frame's sides the page offers, in pixels; 128 for a CPU
MAX_SIZE = 512
# (lowest, highest, step) of each live number: the stage's (RANGES), but fewer steps and a smaller
# zoom at the live size. LiveSettings refuses what lies outside; the Live tab's sliders offer this.
LIVE_RANGES: dict[str, tuple[float, float, float]] = {
    "strength": RANGES["strength"],
    "guidance": RANGES["guidance"],
    "steps": (1, 20, 1),
    "zoom_px": (0.0, 8.0, 0.25),
    "cadence": RANGES["cadence"],
    "seed": RANGES["seed"],
}


class LiveBusy(GiroError):
    """Another session holds the live stream."""


@dataclass(frozen=True)
class LiveSettings:
    prompt: str
    strength: float = 0.5
    guidance: float = 0.0
    steps: int = 2
    zoom_px: float = 1.5  # in pixels of the live frame
    vanishing_point: tuple[float, float] = (0.5, 0.5)
    cadence: int = 1
    colour_coherence: bool = True  # held to the start frame's colours
    size: int = 256
    seed: int = 42  # one noise pattern for every frame, as real-time img2img tools do: less flicker
    compare: str = ""  # A/B: a name in COMPARABLE, whose `values` the variants take side by side
    values: tuple[float, ...] = ()
    negative_prompt: str = ""  # what the frames are steered away from (with guidance above 1)

    def __post_init__(self):
        if not self.prompt.strip():
            raise GiroError("the live prompt is empty")
        for name in ("prompt", "negative_prompt"):
            if len(getattr(self, name)) > MAX_PROMPT_CHARS:
                raise GiroError(f"the live {name.replace('_', ' ')} is {len(getattr(self, name)):,} characters, "
                                f"over the {MAX_PROMPT_CHARS:,} a prompt may have")
        for name, (low, high, _) in LIVE_RANGES.items():
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not (
                    math.isfinite(value) and low <= value <= high):
                raise GiroError(f"live {COMPARABLE.get(name, name)} must be from {low:g} to {high:g}, got {value!r}")
        if isinstance(self.size, bool) or not isinstance(self.size, int) or not 64 <= self.size <= MAX_SIZE or self.size % 8:
            raise GiroError(f"the live size must be a multiple of 8 from 64 to {MAX_SIZE} pixels, got {self.size!r}")
        if not all(0 <= v <= 1 for v in self.vanishing_point):
            raise GiroError("the live vanishing point must lie in the frame (each in [0, 1]), "
                            f"got {list(self.vanishing_point)}")
        if self.compare:
            if self.compare not in COMPARABLE:
                raise GiroError(f"cannot compare {self.compare!r}: only {', '.join(COMPARABLE)}")
            if len(self.values) not in (2, 4):
                raise GiroError(f"compare two or four values of {COMPARABLE[self.compare]}, not {len(self.values)}")
            self.variants()  # each one checked as a setting of its own
        elif int(self.steps * self.strength) < 1:
            raise GiroError(f"strength {self.strength:g} with {self.steps} steps runs no denoising step: "
                            "raise steps or strength")

    def variants(self) -> tuple[LiveSettings, ...]:
        """The settings of each picture side by side: itself, or one per compared value."""
        if not self.compare:
            return (self,)
        kind = int if self.compare == "steps" else float
        return tuple(replace(self, compare="", values=(), **{self.compare: kind(value)}) for value in self.values)


# What A/B can compare, batched in one model call (DreamPipelines.redraw), and its words.
COMPARABLE = {"strength": "strength", "guidance": "guidance", "steps": "steps", "zoom_px": "zoom pixels"}


@dataclass(frozen=True)
class LiveFrame:
    index: int
    settings: LiveSettings  # what it was made with
    redrawn: bool  # False: the zoom alone (cadence)
    seconds: float  # its wall time
    made: float  # time.monotonic() when it was done
    pictures: tuple[HostFrame, ...] = field(repr=False)  # one, or each variant's (A/B)

    @property
    def image(self) -> np.ndarray:
        """The frame, (H, W, 3) uint8: the first variant's in A/B."""
        return self.pictures[0].array

    @property
    def variants(self) -> tuple[np.ndarray, ...]:
        """A/B: each variant's picture; () otherwise."""
        return tuple(picture.array for picture in self.pictures) if self.settings.compare else ()


class LiveStream:
    """One stream and its thread. Every method is safe from any thread (a lock guards the state)."""

    def __init__(
        self, owner: str, pipelines: DreamPipelines, settings: LiveSettings, start: np.ndarray | None = None,
        busy: Callable[[], bool] = lambda: False, lost_seconds: float = 20.0, idle_seconds: float = 300.0,
    ):
        self.owner = owner
        self.pipelines, self.busy = pipelines, busy
        self.lost_seconds, self.idle_seconds = lost_seconds, idle_seconds
        self.started = time.time()
        self._lock = threading.Lock()
        self._settings = settings
        self._frames: collections.deque[LiveFrame] = collections.deque(maxlen=HISTORY)
        self._seen = self._changed = time.monotonic()
        self._present: Callable[[], bool] | None = None  # whether the steering tab is still connected
        self._paused = False
        self._state = "starting"  # starting, running, paused, waiting (for a render), stopped, failed
        self.message = ""  # why it stopped or failed, one line
        self._stop = threading.Event()
        self._start = start
        # The frames' way to the pages (ui/routes.py serves them at the stream's own address);
        # only the steering tab holds `steer_key`, which makes its watching count as seen.
        self.id, self.steer_key = secrets.token_hex(8), secrets.token_hex(8)
        self.broadcast = Broadcast(f"live-{owner}")
        self._pictures: list[torch.Tensor] = []  # the latest frame's, on the device: offered again on a change of state
        _STREAMS[self.id] = self
        self._thread = threading.Thread(target=self._run, name=f"live-{owner}", daemon=True)
        self._thread.start()

    @staticmethod
    def find(stream_id: str) -> LiveStream | None:
        """The stream of that id while it runs; None for any other."""
        stream = _STREAMS.get(stream_id)
        return stream if stream is not None and stream.alive else None

    # ------------------------------------------------------------ the page's side

    @property
    def settings(self) -> LiveSettings:
        with self._lock:
            return self._settings

    def update(self, settings: LiveSettings) -> None:
        """Steer: the next frame is made with `settings`. A change counts as activity."""
        with self._lock:
            if settings != self._settings:
                self._settings, self._changed = settings, time.monotonic()
            self._seen = time.monotonic()

    def heartbeat(self, present: Callable[[], bool] | None = None) -> None:
        """The steering tab is still there (the page calls this whenever it shows a frame).
        `present`: whether that tab is still connected, asked while no heartbeat comes, so a tab
        that a busy server redraws only every few seconds is not taken for a closed one."""
        with self._lock:
            self._seen = time.monotonic()
            if present is not None:
                self._present = present

    def pause(self) -> None:
        with self._lock:
            self._paused, self._changed = True, time.monotonic()

    def resume(self) -> None:
        with self._lock:
            self._paused, self._changed = False, time.monotonic()

    def stop(self, why: str = "stopped") -> None:
        with self._lock:
            if not self.message:
                self.message = why
        self._stop.set()

    def join(self, timeout: float | None = None) -> None:
        self._thread.join(timeout)

    @property
    def alive(self) -> bool:
        # A closed broadcast is the thread's last act: a page that heard of the end from the
        # stream's socket finds it ended too, not still running for a few microseconds more.
        return self._thread.is_alive() and not self.broadcast.closed

    @property
    def state(self) -> str:
        with self._lock:
            return self._state

    def frames(self) -> list[LiveFrame]:
        """The recent frames, oldest first."""
        with self._lock:
            return list(self._frames)

    def latest(self) -> LiveFrame | None:
        with self._lock:
            return self._frames[-1] if self._frames else None

    @property
    def fps(self) -> float:
        """Frames a second over the recent frames (0 until there are two)."""
        frames = self.frames()
        if len(frames) < 2 or frames[-1].made <= frames[0].made:
            return 0.0
        return (len(frames) - 1) / (frames[-1].made - frames[0].made)

    # ------------------------------------------------------------ the stream's thread

    def _run(self) -> None:
        try:
            self._loop()
        except GiroError as error:
            self._finish("failed", str(error))
        except Exception as error:  # a bug or the device: one line for the page, the thread ends
            self._finish("failed", f"the live stream stopped: {first_line(error)}")
        else:
            self._finish("stopped", "")
        finally:
            self._start = None  # the thread's frames go with it
            self._pictures = []
            self.broadcast.close()

    def _finish(self, state: str, message: str) -> None:
        with self._lock:
            self._state = state
            if message and not self.message:
                self.message = message

    def _loop(self) -> None:
        embeddings: dict[tuple[str, str], tuple[torch.Tensor, torch.Tensor]] = {}
        frames: list[torch.Tensor] = []  # each variant's latest, (3, H, W) uint8 on the device
        variants: tuple[LiveSettings, ...] = ()  # what made them
        reference: Palette | None = None
        index = 0
        while not self._stop.is_set():
            if self._should_stop():
                return
            settings = self.settings
            if self._paused or self.busy():
                self._set_state("paused" if self._paused else "waiting")
                self._stop.wait(0.1)
                continue
            self._set_state("running")
            began = time.perf_counter()
            text = settings.prompt, settings.negative_prompt
            if text not in embeddings:  # once per prompt and negative prompt, not per frame
                embeddings = {text: self.pipelines.encode(*text)}
            embeds = embeddings[text]
            size, wanted = settings.size, settings.variants()
            if not frames or tuple(frames[0].shape[-2:]) != (size, size):
                first = start_frame((size, size), self.pipelines.device, self._start, lambda: self.pipelines.first_frame(
                    embeds, size, size, max(settings.steps, 1), settings.guidance, settings.seed, self._stop.is_set))
                if first is None:
                    return
                reference = palette(to_float(first))
                frames, variants, redrawn = [first] * len(wanted), wanted, True
            else:
                redrawn = index % settings.cadence == 0
                drawn = self._next(_carried(frames, variants, wanted), wanted, redrawn, embeds, reference,
                                   changed=lambda: self.settings is not settings)
                if drawn is None:  # stopped, or the settings changed: the next try takes them
                    if self._stop.is_set():
                        return
                    continue
                frames, variants = drawn, wanted
            pictures = tuple(HostFrame(frame) for frame in frames)  # on their way to the page
            with self._lock:
                self._frames.append(LiveFrame(index, settings, redrawn, time.perf_counter() - began,
                                              time.monotonic(), pictures))
            self._pictures = frames
            self._offer()
            index += 1

    def _next(self, frames: list[torch.Tensor], variants: tuple[LiveSettings, ...], redrawn: bool,
              embeds, reference: Palette | None, changed: Callable[[], bool]) -> list[torch.Tensor] | None:
        """Each variant's next frame: its zoom, then (on a redrawn frame) img2img of them all in one
        model call. None if stopped, or if the settings `changed` while denoising: a frame in
        progress is dropped for one made with the new settings, so a change waits for one
        denoising step at most, not for a whole frame made with the old value."""
        first, size = variants[0], variants[0].size
        redraw = hold = None
        if redrawn:
            hold = Hold(reference) if first.colour_coherence else None
            settings = [Variant(v.strength, v.steps, v.guidance) for v in variants]
            redraw = lambda images: self.pipelines.redraw(  # noqa: E731
                images, embeds, settings, first.seed, lambda: self._stop.is_set() or changed())
        moves = [step_warp((size, size), Camera(v.zoom_px, vanishing_point=first.vanishing_point)) for v in variants]
        step = advance(frames, moves, hold=hold, redraw=redraw)
        return None if step is None else step.frames

    def _should_stop(self) -> bool:
        now = time.monotonic()
        with self._lock:
            seen, changed, present = self._seen, self._changed, self._present
        if now - seen > self.lost_seconds and present is not None and present():
            self.heartbeat()
            seen = now
        if now - seen > self.lost_seconds:
            self.stop("stopped: its tab was closed")
            return True
        if now - changed > self.idle_seconds:
            self.stop(f"stopped after {self.idle_seconds / 60:g} minutes without a change")
            return True
        return False

    def _set_state(self, state: str) -> None:
        with self._lock:
            changed, self._state = state != self._state, state
        if changed and self._pictures:  # "paused", "waiting" under the picture on screen
            self._offer()

    def _offer(self) -> None:
        frame = self.latest()
        if frame is not None:
            self.broadcast.offer(self._pictures, caption(frame, self.fps, self.state))


class LiveHall:
    """The server's one live stream: who holds it, and starting and stopping it."""

    def __init__(self, load: Callable[[str, str], DreamPipelines], busy: Callable[[], bool] = lambda: False,
                 lost_seconds: float = 20.0, idle_seconds: float = 300.0):
        self._load, self._busy = load, busy
        self.lost_seconds, self.idle_seconds = lost_seconds, idle_seconds
        self._lock = threading.Lock()
        self._starting = threading.Lock()
        self._stream: LiveStream | None = None
        self.last_message = ""  # why the last stream ended, for the page

    def current(self) -> LiveStream | None:
        """The running stream, if any; a finished one is let go (its thread has ended)."""
        with self._lock:
            if self._stream is not None and not self._stream.alive:
                self.last_message = self._stream.message
                self._stream = None
            return self._stream

    def start(self, owner: str, model: str, vae: str, settings: LiveSettings,
              start: np.ndarray | None = None) -> LiveStream:
        """Start streaming for `owner`; LiveBusy if another session holds the stream. Loading the
        model happens here, in the caller's thread, so a missing model is the caller's one line.
        Starts take turns (two tabs of one session pressing Start at once left two threads
        drawing): the later one replaces the earlier one's stream."""
        with self._starting:
            holder = self.current()
            if holder is not None and holder.owner != owner:
                raise LiveBusy("another session is steering Live Dream: watch it, or wait until it stops")
            if holder is not None:
                holder.stop("restarted")
                holder.join()
            pipelines = self._load(model, vae)
            with self._lock:
                self._stream = LiveStream(owner, pipelines, settings, start, self._busy,
                                          self.lost_seconds, self.idle_seconds)
                return self._stream

    def stop(self, owner: str) -> None:
        stream = self.current()
        if stream is not None and stream.owner == owner:
            stream.stop()
            stream.join()
            self.current()


def caption(frame: LiveFrame, fps: float, state: str) -> dict:
    """What the page says under a frame: its number, the rate, and what it was made with."""
    s = frame.settings
    made = {"strength": f"strength {s.strength:g}", "guidance": f"guidance {s.guidance:g}",
            "steps": f"steps {s.steps}", "zoom_px": f"zoom {s.zoom_px:g} px"}
    compared = ""
    if s.compare:
        made[s.compare] = f"the compared {COMPARABLE[s.compare]}"
        compared = f"Left to right, {COMPARABLE[s.compare]} " + " · ".join(f"{v:g}" for v in s.values)
    note = {"paused": " · paused", "waiting": " · waiting: a render has the GPU"}.get(state, "")
    text = (f"Frame {frame.index} · {fps:.1f} frames a second{note} · made with {', '.join(made.values())} "
            f"about ({s.vanishing_point[0]:.2f}, {s.vanishing_point[1]:.2f}), cadence {s.cadence}: {s.prompt}")
    return {"index": frame.index, "caption": text, "compare": compared}


_STREAMS: weakref.WeakValueDictionary[str, LiveStream] = weakref.WeakValueDictionary()


def _carried(frames: list[torch.Tensor], old: tuple[LiveSettings, ...],
             new: tuple[LiveSettings, ...]) -> list[torch.Tensor]:
    """Each new variant goes on from the old one with the same settings, if there was one: keeping
    one variant of a comparison continues its picture. The others start from the first picture."""
    if old == new:
        return frames
    return [frames[old.index(variant)] if variant in old else frames[0] for variant in new]


def scaled_zoom(settings: LiveSettings, width: int) -> float:
    """The live zoom in pixels of a `width`-wide stage frame: the same speed of travel."""
    return settings.zoom_px * width / settings.size
