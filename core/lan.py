"""This machine's address on the local network, for phones at a meetup (no packet is sent).

    python -m core.lan [PORT]   prints the https address to open on a phone
    python -m core.lan --ip     prints the address alone
    python -m core.lan --cert DIR   makes a self-signed certificate for it in DIR
"""

from __future__ import annotations

import ipaddress
import socket
import subprocess
import sys
from pathlib import Path


def lan_ip() -> str:
    """The first private IPv4 address of this machine, else 127.0.0.1."""
    candidates: list[str] = []
    try:  # Linux: every address of every interface, from the kernel
        candidates += subprocess.run(["hostname", "-I"], capture_output=True, text=True, timeout=3).stdout.split()
    except (OSError, subprocess.SubprocessError):
        pass
    try:
        candidates += [info[4][0] for info in socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)]
    except OSError:
        pass
    for address in candidates:
        try:
            ip = ipaddress.ip_address(address)
        except ValueError:
            continue
        if ip.version == 4 and not ip.is_loopback:
            return address
    return "127.0.0.1"


def phone_url(port: int) -> str:
    return f"https://{lan_ip()}:{port}"


def qr_code(text: str):
    """A QR code of `text` as a PIL image."""
    import qrcode

    return qrcode.make(text, box_size=8, border=2).get_image()


def make_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for this machine's address, localhost and 127.0.0.1 (openssl)."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",
         "-subj", "/CN=Giro Dreams",
         "-addext", f"subjectAltName=IP:{lan_ip()},IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True,
    )
    return cert, key


def main(argv: list[str]) -> int:
    if argv[:1] == ["--ip"]:
        print(lan_ip())
        return 0
    if argv[:1] == ["--cert"]:
        cert, _ = make_certificate(Path(argv[1]))
        print(f"wrote {cert}")
        return 0
    port = int(argv[0]) if argv else 8501
    print(f"On a phone on the same Wi-Fi, open {phone_url(port)}")
    print("The certificate is self-signed: the phone warns once; accept it to use the camera.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
