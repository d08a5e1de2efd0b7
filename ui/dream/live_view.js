// The Live view: the stream's frames from the server's socket, each drawn as it comes, what it
// was made with under it, and a strip of the last seconds. The page itself does not rerun.
// A message is 4 bytes of a JSON caption's length, the caption, then the frame as a JPEG.
//
// The socket and the drawing run in a worker on an OffscreenCanvas where the browser has one:
// a frame then reaches the screen without the page's main thread (no commit of the page a
// frame, which cost a watcher's browser more than the drawing), and the page hears from the
// worker only when its words or strip change. Elsewhere the same function runs on the page.
const STRIP = 6;

// Runs in the worker (as source text: it must use nothing from outside itself) or on the page.
// `report(update, transfer)` gets the words to show and a picture for the strip, together, at
// most every UPDATE_EVERY_MS: each change of the words costs the page a layout, which a phone
// drawing a stream of 60 frames a second cannot spare (`python -m bench.live --page`: tabs on
// one core drew more of its frames with four updates a second than with ten), and no one reads
// faster.
function watch(canvas, address, report) {
  const UPDATE_EVERY_MS = 250;
  let newest = null, drawing = false, shown = 0, pending = null, updateDue = 0, updateTimer = null;
  let stopped = null;  // why the stream ended: the last words shown, after any frame in hand

  function send() {  // the newest frame's words and picture, never left behind
    updateTimer = null;
    const wait = updateDue - performance.now();
    if (wait > 0) {
      updateTimer = setTimeout(send, wait);
      return;
    }
    if (!pending) return;
    report(pending, [pending.thumb]);
    pending = null;
    updateDue = performance.now() + UPDATE_EVERY_MS;
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
      if (stopped) {  // the stream ended while this frame was decoded: its words would hide why
        bitmap.close();
        break;
      }
      if (canvas.width !== bitmap.width || canvas.height !== bitmap.height) {  // a new size clears it
        canvas.width = bitmap.width;
        canvas.height = bitmap.height;
      }
      canvas.getContext("2d").drawImage(bitmap, 0, 0);
      shown += 1;
      if (pending) pending.thumb.close();  // a newer frame's update replaces it
      pending = { caption: info.caption, compare: info.compare, index: info.index, shown, thumb: bitmap };
      if (!updateTimer) send();
    }
    drawing = false;
  }

  function end(why) {
    stopped = why;
    newest = null;
    if (pending) pending.thumb.close();
    pending = null;  // no frame's words after it, nor those of a frame in hand (see draw)
    report({ stopped }, []);
  }

  // A socket that drops (a phone's Wi-Fi, a proxy's timeout) is opened again. The server refuses
  // a stream that has ended; after RETRIES refusals in a row the view says it lost the stream.
  const RETRIES = 3;
  let socket = null, refused = 0, left = false;
  function connect() {
    if (left) return;
    socket = new WebSocket(address);
    socket.binaryType = "arraybuffer";
    socket.onopen = () => { refused = 0; };
    socket.onmessage = (event) => {
      if (typeof event.data === "string") {
        const note = JSON.parse(event.data);
        if (note.stopped) end(note.stopped);
        return;
      }
      if (stopped) return;
      newest = event.data;
      if (!drawing) draw();
    };
    socket.onclose = () => {
      if (stopped || left) return;
      refused += 1;
      if (refused > RETRIES) end("Lost the live stream.");
      else setTimeout(connect, 1000 * refused);
    };
  }
  connect();
  return () => {
    left = true;
    socket.close();
  };
}

const WORKER = `${watch}
onmessage = (event) => watch(event.data.canvas, event.data.address, (update, transfer) => postMessage(update, transfer));`;

export default function (component) {
  const { data, parentElement, setTriggerValue } = component;
  const root = parentElement.querySelector(".giro-live");
  if (root.dataset.socket === data.socket) return;  // a rerun of the page: already watching
  root.dataset.socket = data.socket;
  root.dataset.shown = "0";
  // A canvas handed to a worker cannot be drawn on here again: each stream gets a fresh one.
  const frame = root.querySelector(".giro-frame").cloneNode();
  root.querySelector(".giro-frame").replaceWith(frame);
  const strip = root.querySelector(".giro-strip");
  const caption = root.querySelector(".giro-caption");
  const compare = root.querySelector(".giro-compare");
  const address = new URL(data.socket, window.location.href);
  address.protocol = address.protocol === "https:" ? "wss:" : "ws:";
  const thumbs = [];

  function show(update) {
    if (update.stopped) {
      caption.textContent = update.stopped;
      delete root.dataset.socket;  // the page's next run may watch again (a stream still there)
      setTriggerValue("ended", true);  // the page runs again: Start, for whoever may press it now
      return;
    }
    if (caption.textContent !== update.caption) caption.textContent = update.caption;
    if (compare.textContent !== update.compare) compare.textContent = update.compare;
    if (update.thumb) remember(update.thumb);
    root.dataset.frame = String(update.index);
    root.dataset.shown = String(update.shown);
  }

  function remember(bitmap) {  // the last seconds, oldest first
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

  if (typeof frame.transferControlToOffscreen === "function" && typeof Worker === "function") {
    const source = URL.createObjectURL(new Blob([WORKER], { type: "text/javascript" }));
    const worker = new Worker(source);
    worker.onmessage = (event) => show(event.data);
    const canvas = frame.transferControlToOffscreen();
    worker.postMessage({ canvas, address: address.href }, [canvas]);
    return () => {
      worker.terminate();  // its socket closes with it
      URL.revokeObjectURL(source);
    };
  }
  return watch(frame, address.href, show);
}
