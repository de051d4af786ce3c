"""Request and response models of the public API (they are the published OpenAPI schema)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, Field

from pensioncert import messages

Channel = Literal["wechat", "alipay", "cityapp", "terminal"]
Mode = Literal["self", "proxy"]


class Message(BaseModel):
    """A catalogue message in both languages; ``code`` is stable, the texts may be reworded."""

    code: str
    zh: str
    en: str

    @classmethod
    def of(cls, code: str, /, **params: object) -> Message:
        return cls(code=code, **messages.both(code, **params))


class ErrorDetail(BaseModel):
    code: str
    message: dict[str, str]
    params: dict[str, object] = Field(default_factory=dict)


class ErrorBody(BaseModel):
    """Every error response has this shape."""

    error: ErrorDetail


class HelperIn(BaseModel):
    name: str = Field(max_length=64)
    phone: str = Field(max_length=20)
    relationship: str = Field(max_length=32)


class SessionIn(BaseModel):
    channel: Channel
    mode: Mode = "self"
    language: str = Field("zh-CN", max_length=8)
    helper: HelperIn | None = None


class IdentityIn(BaseModel):
    """Who certifies. After an ID-card scan the identity must be the card's (``document.identity_mismatch``);
    ``corrected`` lists fields the user knowingly changed from what was read (accepted only for a field
    the reading marked ``uncertain``, never the ID number)."""

    name: str = Field(max_length=64)
    id_number: str = Field(max_length=32)
    source: Literal["typed", "id_card"] = "typed"
    corrected: list[Literal["name", "id_number"]] = Field(default_factory=list, max_length=2)


class Window(BaseModel):
    start: date
    end: date
    due_date: date


class DecisionOut(BaseModel):
    """The eligibility decision, as the page shows it before any camera opens."""

    code: str
    may_certify: bool
    message: Message
    window: Window | None = None
    retiree_name: str | None = None  # masked: 张*
    id_number_masked: str | None = None
    has_reference: bool = False
    # Eligible by the registry but today's tries are used up: said here, before any recording.
    cap: Message | None = None
    retry_on: date | None = None  # the (China Standard Time) day from which the user may try again


class SessionOut(BaseModel):
    id: str
    channel: Channel
    mode: Mode
    language: str
    state: str
    decision: DecisionOut | None = None
    helper_name: str | None = None
    attempts_left: int


class CardFields(BaseModel):
    name: str | None = None
    sex: str | None = None
    ethnicity: str | None = None
    birth_date: str | None = None
    address: str | None = None
    id_number: str | None = None
    authority: str | None = None
    valid_from: str | None = None
    valid_until: str | None = None


class CardReadingOut(BaseModel):
    """What OCR read from both sides, for the user to confirm or correct."""

    ok: bool
    fields: CardFields
    problems: list[Message]
    portrait_found: bool
    # Fields read without certainty: the only ones the user may correct (then listed in IdentityIn.corrected).
    uncertain: list[str] = Field(default_factory=list)


class ChallengeOut(BaseModel):
    """A challenge as issued: what kind, how many steps, how long to record; not yet *what*.

    Digits, actions and their prompt times are revealed only by ``…/start``, when the page
    starts recording, so nothing can be rehearsed or pre-recorded against them.
    """

    id: str
    kind: Literal["digits", "actions"]
    language: Literal["en", "zh"]
    step_count: int
    expires_at: datetime
    record_seconds: float


class ChallengeStartIn(BaseModel):
    """``timed: false`` only for the native-camera fallback (no prompts can be shown while recording)."""

    timed: bool = True


class ChallengeStep(BaseModel):
    """One prompt: shown alone at ``at`` seconds after recording start (``null``: untimed, show all)."""

    at: float | None
    code: str
    action: str | None = None
    digit: str | None = None
    prompt: Message


class ChallengeStartOut(BaseModel):
    """The started challenge: its content and schedule, and by when the answer must arrive."""

    id: str
    kind: Literal["digits", "actions"]
    timed: bool
    started_at: datetime
    answer_deadline: datetime
    record_seconds: float
    digits: str | None = None
    actions: list[str] = Field(default_factory=list)
    steps: list[ChallengeStep]


class JobOut(BaseModel):
    id: str
    session_id: str
    state: Literal["pending", "running", "decided"]
    progress: int
    result: str | None = None


class ResultOut(BaseModel):
    """The outcome page: never raw scores, always what to do next."""

    session_id: str
    state: str
    outcome: Literal["pending", "passed", "failed", "review", "error", "none"]
    job: JobOut | None = None
    message: Message
    reasons: list[Message]
    advice: list[Message]
    offline_channels: list[Message]
    next_window: Window | None = None
    attempts_left: int
    retry_allowed: bool
    manual_review: bool
    proxy: bool


class QueryIn(BaseModel):
    name: str = Field(max_length=64)
    id_number: str = Field(max_length=32)


class RecordOut(BaseModel):
    date: date
    channel: str
    method: str
    result: str
    proxy: bool
    result_message: Message


class QueryOut(BaseModel):
    decision: DecisionOut
    history: list[RecordOut]


class ChannelOut(BaseModel):
    code: str
    name: Message
    kind: Literal["online", "offline"]
    url: str | None = None
    qr_png: str | None = None
    qr_svg: str | None = None
    description: Message
