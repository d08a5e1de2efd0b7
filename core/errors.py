"""The project's error types. Their messages are shown to people as they are: one line, no traceback."""


REASON_CHARS = 160  # a library's reason beyond this is a chain of causes no one reads on a page


def first_line(error: BaseException) -> str:
    """The first line of a library's error, or its type when it says nothing: the reason we show."""
    text = str(error).strip()
    line = text.splitlines()[0] if text else type(error).__name__
    return line if len(line) <= REASON_CHARS else line[: REASON_CHARS - 1].rstrip() + "…"


class GiroError(Exception):
    """A problem a person can understand and act on."""


class ImageError(GiroError):
    """An image that cannot be used: empty, corrupt, too large, or not an image at all."""


class StageError(GiroError):
    """A stage file or stage field that is out of range or malformed."""


class ModelError(GiroError):
    """A model that is missing, corrupt or cannot be fetched."""


class DeviceError(GiroError):
    """A torch device that was asked for but is not available."""


class FaceError(GiroError):
    """A photo with no face, or with several, where exactly one is needed."""


class RunError(GiroError):
    """A run folder that cannot be written (a full disk, a read-only folder)."""
