"""The one typed settings object.

Every tunable lives here, read from ``PENSIONCERT_*`` environment variables
(nested sections use ``__``: ``PENSIONCERT_FACE__MATCH_THRESHOLD=0.5``).
Thresholds carry, in a comment, the measurement that justifies them.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import BaseModel, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class CycleSettings(BaseModel):
    """Certification cycle rules (DOMAIN.md: 12-month cycle, window opens 3 months early)."""

    cycle_months: int = 12
    advance_window_months: int = 3
    local_region_prefix: str = "4403"  # Shenzhen; region codes of this city start with it
    min_age_years: int = 40
    max_age_years: int = 120
    # Regions (6-digit region-code prefixes) that run a fixed campaign window each year
    # instead of a rolling cycle, as "MM-DD:MM-DD" calendar ranges. Empty = rolling everywhere.
    campaign_windows: dict[str, str] = Field(default_factory=dict)


class StorageSettings(BaseModel):
    """Where records live. SQLite file by default; PostgreSQL by URL."""

    database_url: str = ""  # empty = sqlite file under data_dir
    echo_sql: bool = False


class FaceSettings(BaseModel):
    """Face engine thresholds (filled by the biometrics package; see docs/biometrics.md)."""

    match_threshold: float = 0.5


class LivenessSettings(BaseModel):
    """Challenge and liveness thresholds (see docs/liveness.md)."""

    challenge_ttl_seconds: int = 300
    max_attempts_per_session: int = 3
    max_attempts_per_retiree_per_day: int = 5


class OcrSettings(BaseModel):
    """ID-card OCR settings (see docs/ocr.md)."""


class UploadSettings(BaseModel):
    """Limits on what a phone may upload."""

    max_video_bytes: int = 25 * 1024 * 1024
    max_image_bytes: int = 8 * 1024 * 1024
    max_video_seconds: float = 20.0


class SecuritySettings(BaseModel):
    """Keys and protection at rest. Defaults are for development only."""

    # 32-byte urlsafe-base64 key for AES-GCM (media, templates, ID numbers).
    data_key: str = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
    # Key for the keyed hash that lets us look ID numbers up without storing them in clear.
    lookup_key: str = "development-lookup-key"
    session_secret: str = "development-session-secret"
    media_retention_days: int = 30


class JobSettings(BaseModel):
    """Verification jobs: in-process by default, Redis queue when scaled out."""

    backend: str = "inprocess"  # "inprocess" | "redis"
    redis_url: str = "redis://127.0.0.1:6379/0"


class Settings(BaseSettings):
    """All configuration of one pensioncert process."""

    model_config = SettingsConfigDict(
        env_prefix="PENSIONCERT_", env_nested_delimiter="__", extra="ignore"
    )

    data_dir: Path = Path("var")
    default_language: str = "zh-CN"
    log_level: str = "INFO"
    log_json: bool = False

    cycle: CycleSettings = Field(default_factory=CycleSettings)
    storage: StorageSettings = Field(default_factory=StorageSettings)
    face: FaceSettings = Field(default_factory=FaceSettings)
    liveness: LivenessSettings = Field(default_factory=LivenessSettings)
    ocr: OcrSettings = Field(default_factory=OcrSettings)
    upload: UploadSettings = Field(default_factory=UploadSettings)
    security: SecuritySettings = Field(default_factory=SecuritySettings)
    jobs: JobSettings = Field(default_factory=JobSettings)

    @property
    def database_url(self) -> str:
        if self.storage.database_url:
            return self.storage.database_url
        return f"sqlite:///{(self.data_dir / 'pensioncert.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once from the environment."""
    return Settings()
