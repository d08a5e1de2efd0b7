"""A web on 127.0.0.1 for the setup tests: the Hub, the data set server and image search, served
over real HTTP so the product's own download code (urllib, huggingface_hub, diffusers) runs.

    python -m tests.fake_web SEARCH_URL STARS_FILE -- SETUP_ARGS...

runs `python -m core.setup` with the image search (core.classifiers.collect's one network boundary besides
the downloads) answered by SEARCH_URL instead of the metasearch service, and the film stars read
from STARS_FILE (a few, where the repository lists two hundred).
"""

from __future__ import annotations

import hashlib
import json
import sys
import threading
import urllib.parse
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

COMMIT = "0" * 39 + "1"


class FakeWeb:
    """Files by path; Hub repositories (folders) by id; image search results by query.

    `cut_after[path] = n`: the next GET of that path sends n bytes and drops the connection, as a
    server that goes away mid-download. `requests` lists every path asked for.
    """

    def __init__(self):
        self.files: dict[str, bytes] = {}
        self.repos: dict[str, Path] = {}
        self.searches: dict[str, list[str]] = {}
        self.cut_after: dict[str, int] = {}
        self.requests: list[str] = []
        web = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # quiet: pytest shows failures, not traffic
                pass

            def do_HEAD(self):
                web._answer(self, body=False)

            def do_GET(self):
                web._answer(self, body=True)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def _answer(self, handler: BaseHTTPRequestHandler, body: bool) -> None:
        url = urllib.parse.urlparse(handler.path)
        self.requests.append(url.path + (f" {handler.headers['Range']}" if handler.headers["Range"] else ""))
        if url.path == "/search":
            query = urllib.parse.parse_qs(url.query)["q"][0]
            return self._send(handler, json.dumps(self.searches.get(query, [])).encode(), body)
        if url.path.startswith("/api/models/"):
            return self._model_info(handler, url.path.removeprefix("/api/models/"), body)
        if "/resolve/" in url.path:
            repo, _, rest = url.path.lstrip("/").partition("/resolve/")
            name = urllib.parse.unquote(rest.partition("/")[2])
            if repo in self.repos and (self.repos[repo] / name).is_file():
                data = (self.repos[repo] / name).read_bytes()
                headers = {"X-Repo-Commit": COMMIT, "ETag": f'"{hashlib.sha256(data).hexdigest()}"'}
                return self._send(handler, data, body, headers)
            return self._send(handler, b"", body, status=404)
        if url.path in self.files:
            return self._send_file(handler, url.path, body)
        self._send(handler, b"", body, status=404)

    def _model_info(self, handler, rest: str, body: bool) -> None:
        repo = "/".join(rest.split("/")[:2])
        if repo not in self.repos:
            return self._send(handler, b'{"error": "Repository not found"}', body, status=404,
                              headers={"X-Error-Code": "RepoNotFound"})
        folder = self.repos[repo]
        files = sorted(p for p in folder.rglob("*") if p.is_file())
        if "/tree/" in rest:  # the listing diffusers reads: every file with its size
            tree = [{"type": "file", "oid": COMMIT, "size": p.stat().st_size,
                     "path": str(p.relative_to(folder))} for p in files]
            return self._send(handler, json.dumps(tree).encode(), body)
        info = {"id": repo, "modelId": repo, "sha": COMMIT, "private": False,
                "siblings": [{"rfilename": str(p.relative_to(folder))} for p in files]}
        self._send(handler, json.dumps(info).encode(), body)

    def _send_file(self, handler, path: str, body: bool) -> None:
        data = self.files[path]
        start = 0
        ranged = handler.headers.get("Range", "")
        if ranged.startswith("bytes="):
            start = int(ranged.removeprefix("bytes=").split("-")[0])
            if start >= len(data):
                return self._send(handler, b"", body, status=416)
        cut = self.cut_after.pop(path, None) if body else None
        status = 206 if start else 200
        handler.send_response(status)
        handler.send_header("Content-Length", str(len(data) - start))
        if start:
            handler.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        handler.end_headers()
        if body:
            handler.wfile.write(data[start:] if cut is None else data[start:start + cut])
            if cut is not None:
                handler.wfile.flush()
                handler.close_connection = True

    @staticmethod
    def _send(handler, data: bytes, body: bool, headers: dict | None = None, status: int = 200) -> None:
        handler.send_response(status)
        handler.send_header("Content-Type", "application/json" if data[:1] in (b"{", b"[") else "application/octet-stream")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        if body:
            handler.wfile.write(data)


def main(argv: list[str]) -> int:
    search_url, stars_file, setup_args = argv[0], Path(argv[1]), argv[3:]
    import core.classifiers.collect
    import core.setup

    core.setup.STARS_FILE = stars_file
    def search(query: str, max_results: int) -> list[str]:
        address = f"{search_url}?q={urllib.parse.quote(query)}"
        with urllib.request.urlopen(address, timeout=10) as reply:
            return json.loads(reply.read())[:max_results]

    core.classifiers.collect.search_images = search
    return core.setup.main(setup_args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
