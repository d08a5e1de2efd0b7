// The Live view: the stream's frames from the server's socket, each drawn as it comes, what it
// was made with under it, and a strip of the last seconds. The page itself does not rerun.
// A message is 4 bytes of a JSON caption's length, the caption, then the frame as a JPEG.
const STRIP = 6;
// A watcher's browser draws every frame of a stream of up to 60 a second; the words under it and
// the strip change less often, each change costing the page a layout and a repaint: the caption
// at most ten times a second (no one reads faster), a picture in the strip each quarter second.
const TEXT_EVERY_MS = 100;
const STRIP_EVERY_MS = 250;

export default function (component) {
  const { data, parentElement } = component;
  const root = parentElement.querySelector(".giro-live");
  if (root.dataset.socket === data.socket) return;  // a rerun of the page: already watching
  root.dataset.socket = data.socket;
  root.dataset.shown = "0";
  const frame = root.querySelector(".giro-frame");
  const strip = root.querySelector(".giro-strip");
  const caption = root.querySelector(".giro-caption");
  const compare = root.querySelector(".giro-compare");
  const address = new URL(data.socket, window.location.href);
  address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(address);
  socket.binaryType = "arraybuffer";
  const thumbs = [];
  let newest = null, drawing = false;
  let text = null, textDue = 0, textTimer = null, thumbDue = 0;

  function showText() {  // the newest frame's words, at most every TEXT_EVERY_MS, never left behind
    textTimer = null;
    if (!text) return;
    const wait = textDue - performance.now();
    if (wait > 0) {
      textTimer = setTimeout(showText, wait);
      return;
    }
    if (caption.textContent !== text.caption) caption.textContent = text.caption;
    if (compare.textContent !== text.compare) compare.textContent = text.compare;
    text = null;
    textDue = performance.now() + TEXT_EVERY_MS;
  }

  // One frame drawn at a time; frames that come meanwhile are skipped for the newest.
  async function draw() {
    drawing = true;
    while (newest) {
      const message = newest;
      newest = null;
      const length = new DataView(message).getUint32(0);
      const info = JSON.parse(new TextDecoder().decode(new Uint8Array(message, 4, length)));
      const bitmap = await createImageBitmap(new Blob([new Uint8Array(message, 4 + length)], { type: "image/jpeg" }));
      if (frame.width !== bitmap.width || frame.height !== bitmap.height) {  // a new size clears it
        frame.width = bitmap.width;
        frame.height = bitmap.height;
      }
      frame.getContext("2d").drawImage(bitmap, 0, 0);
      text = info;
      if (!textTimer) showText();
      const now = performance.now();
      if (now >= thumbDue && String(info.index) !== root.dataset.frame) {
        thumbDue = now + STRIP_EVERY_MS;
        remember(bitmap);
      } else bitmap.close();
      root.dataset.frame = String(info.index);
      root.dataset.shown = String(Number(root.dataset.shown) + 1);
    }
    drawing = false;
  }

  function remember(bitmap) {  // the last seconds, a picture each STRIP_EVERY_MS, oldest first
    const last = thumbs[thumbs.length - 1];
    if (last && last.width * bitmap.height !== bitmap.width * last.height) {
      thumbs.splice(0).forEach((thumb) => thumb.close());  // A/B began or ended: a strip of one shape
    }
    thumbs.push(bitmap);
    if (thumbs.length > STRIP) thumbs.shift().close();
    const high = strip.height, gap = 4, wide = high * bitmap.width / bitmap.height;
    strip.width = STRIP * (wide + gap) - gap;  // room for all of them from the first: it keeps its size
    const context = strip.getContext("2d");
    context.clearRect(0, 0, strip.width, high);
    thumbs.forEach((thumb, n) => context.drawImage(thumb, n * (wide + gap), 0, wide, high));
  }

  socket.onmessage = (event) => {
    if (typeof event.data === "string") {
      const note = JSON.parse(event.data);
      if (note.stopped) {
        text = null;  // no frame's words after it
        caption.textContent = note.stopped;
      }
      return;
    }
    newest = event.data;
    if (!drawing) draw();
  };
  return () => socket.close();
}
