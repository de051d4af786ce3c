import ssl
from datetime import UTC, datetime
from pathlib import Path

from cryptography import x509

from pensioncert.tls import self_signed_certificate


def test_certificate_is_valid_reused_and_loads_into_ssl(tmp_path: Path) -> None:
    cert_path, key_path = self_signed_certificate(tmp_path)
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "localhost" in names.get_values_for_type(x509.DNSName)
    assert cert.not_valid_before_utc <= datetime.now(UTC) < cert.not_valid_after_utc
    assert key_path.stat().st_mode & 0o077 == 0
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_path, key_path)  # raises if key and certificate do not belong together
    again, _ = self_signed_certificate(tmp_path)
    assert again.read_bytes() == cert_path.read_bytes()
