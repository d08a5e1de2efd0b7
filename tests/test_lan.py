"""core.lan: the address phones open, and its QR code."""

from __future__ import annotations

import ipaddress

from core.lan import lan_ip, phone_url, qr_code


def test_lan_address_and_qr_code():
    assert ipaddress.ip_address(lan_ip()).version == 4
    assert phone_url(8501).startswith("https://") and phone_url(8501).endswith(":8501")
    assert qr_code("https://192.168.1.5:8501").size[0] > 100
