"""core.lan: the address phones open, and its QR code."""

from __future__ import annotations

import ipaddress

import pytest

from core.lan import CertificateError, lan_ip, make_certificate, openssl_install_hint, phone_url, qr_code


def test_lan_address_and_qr_code():
    assert ipaddress.ip_address(lan_ip()).version == 4
    assert phone_url(8501).startswith("https://") and phone_url(8501).endswith(":8501")
    assert qr_code("https://192.168.1.5:8501").size[0] > 100


def test_a_certificate_with_the_machines_openssl(tmp_path):
    cert, key = make_certificate(tmp_path / "certs")
    assert cert.read_text().startswith("-----BEGIN CERTIFICATE-----") and key.is_file()


def test_no_openssl_is_one_line_naming_the_package(tmp_path, monkeypatch):
    monkeypatch.setattr("core.lan.shutil.which", lambda name: None)
    with pytest.raises(CertificateError) as caught:
        make_certificate(tmp_path / "certs")
    assert "\n" not in str(caught.value) and str(caught.value).startswith("openssl is missing")
    assert not (tmp_path / "certs").exists()


@pytest.mark.parametrize("release, hint", [
    ('ID=debian\n', "sudo apt-get install openssl"),
    ('ID=ubuntu\nID_LIKE=debian\n', "sudo apt-get install openssl"),
    ('ID="fedora"\n', "sudo dnf install openssl"),
    ('ID=rocky\nID_LIKE="rhel centos fedora"\n', "sudo dnf install openssl"),
    ('ID=arch\n', "sudo pacman -S openssl"),
    ('ID=plan9\n', None),
])
def test_the_install_hint_fits_the_system(tmp_path, release, hint):
    (tmp_path / "os-release").write_text(release)
    said = openssl_install_hint("Linux", tmp_path / "os-release")
    assert said == (f"install it with `{hint}`" if hint else "install your system's openssl package")
    assert openssl_install_hint("Darwin") == "install it with `brew install openssl`"


def test_a_failing_openssl_is_one_line(tmp_path):
    broken = tmp_path / "openssl"
    broken.write_text("#!/bin/sh\necho 'req: unknown option -addext' >&2\nexit 1\n")
    broken.chmod(0o755)
    with pytest.raises(CertificateError, match="^openssl could not make the certificate: req: unknown option -addext$"):
        make_certificate(tmp_path / "certs", openssl=str(broken))


def test_the_camera_needs_https_except_on_this_machine():
    from core.lan import camera_needs_https

    assert camera_needs_https("http://192.168.1.20:8501/Film-Star_Lookalike")
    assert not camera_needs_https("https://192.168.1.20:8501/")
    assert not camera_needs_https("http://localhost:8501/") and not camera_needs_https("http://127.0.0.1:8501")
    assert not camera_needs_https("http://[::1]:8501/") and not camera_needs_https(None)
