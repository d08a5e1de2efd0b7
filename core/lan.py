"""This machine's address on the local network, for phones at a meetup (no packet is sent).

    python -m core.lan [PORT]   prints the https address to open on a phone
    python -m core.lan --ip     prints the address alone
    python -m core.lan --cert DIR   makes a self-signed certificate for it in DIR
"""

from __future__ import annotations

import ipaddress
import platform
import shutil
import socket
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlparse

# How each family of systems installs openssl, by /etc/os-release's ID (or ID_LIKE).
OPENSSL_INSTALL = {
    "debian": "sudo apt-get install openssl", "ubuntu": "sudo apt-get install openssl",
    "fedora": "sudo dnf install openssl", "rhel": "sudo dnf install openssl",
    "arch": "sudo pacman -S openssl", "alpine": "sudo apk add openssl",
    "suse": "sudo zypper install openssl", "opensuse": "sudo zypper install openssl",
}


def camera_needs_https(url: str | None) -> bool:
    """Whether a browser at `url` keeps the camera from the page: browsers offer it only to secure
    pages, which are HTTPS or this machine's own loopback names."""
    if not url:
        return False  # not known (a test's client): say nothing rather than something wrong
    parsed = urlparse(url)
    return parsed.scheme == "http" and parsed.hostname not in ("localhost", "127.0.0.1", "::1")


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


class CertificateError(Exception):
    """One line: why no certificate could be made."""


def make_certificate(folder: Path, openssl: str | None = None) -> tuple[Path, Path]:
    """A self-signed certificate for this machine's address, localhost and 127.0.0.1 (openssl)."""
    openssl = openssl or shutil.which("openssl")
    if openssl is None:
        raise CertificateError(f"openssl is missing, and `make serve` needs it once for the phone's "
                               f"certificate: {openssl_install_hint()}")
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    result = subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "825",
         "-subj", "/CN=Giro Dreams",
         "-addext", f"subjectAltName=IP:{lan_ip()},IP:127.0.0.1,DNS:localhost",
         "-keyout", str(key), "-out", str(cert)],
        capture_output=True, text=True,
    )
    if result.returncode != 0:
        why = next((line for line in result.stderr.splitlines() if line.strip()), f"exit {result.returncode}")
        raise CertificateError(f"openssl could not make the certificate: {why.strip()}")
    return cert, key


def openssl_install_hint(system: str | None = None, os_release: Path = Path("/etc/os-release")) -> str:
    """How this machine installs openssl, as one command where it is known."""
    system = system or platform.system()
    if system == "Darwin":
        return "install it with `brew install openssl`"
    try:
        fields = dict(line.split("=", 1) for line in os_release.read_text().splitlines() if "=" in line)
    except OSError:
        fields = {}
    families = [fields.get("ID", "").strip('"'), *fields.get("ID_LIKE", "").strip('"').split()]
    command = next((OPENSSL_INSTALL[f] for f in families if f in OPENSSL_INSTALL), None)
    return f"install it with `{command}`" if command else "install your system's openssl package"


def main(argv: list[str]) -> int:
    if argv[:1] == ["--ip"]:
        print(lan_ip())
        return 0
    if argv[:1] == ["--cert"]:
        try:
            cert, _ = make_certificate(Path(argv[1]))
        except CertificateError as error:
            print(error, file=sys.stderr)
            return 1
        print(f"wrote {cert}")
        return 0
    port = int(argv[0]) if argv else 8501
    print(f"On a phone on the same Wi-Fi, open {phone_url(port)}")
    print("The certificate is self-signed: the phone warns once; accept it to use the camera.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
