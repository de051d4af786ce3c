"""Liveness: is the person alive and present now? Challenges, recording analysis, evaluation.

    from pensioncert.liveness import analyse_recording, issue_challenge, check_challenge_use

    challenge = issue_challenge("digits", random.SystemRandom(), now, session_id, settings.liveness)
    check_challenge_use(challenge, session_id, now)     # raises ChallengeUsed / Expired / Foreign
    verdict = analyse_recording(upload_bytes, challenge, reference_embedding)
    verdict.passed, verdict.reasons                     # message codes liveness.* (liveness.toml)
    verdict.results                                     # CheckResult per check: pass / fail / not_run
    verdict.user_reasons                                # what the user is shown

See docs/liveness.md for the checks, their thresholds and the measured APCER/BPCER.
"""

from pensioncert.liveness.analyse import (
    CheckResult,
    CheckStatus,
    FaceEngineUnavailable,
    LivenessVerdict,
    analyse_recording,
)
from pensioncert.liveness.challenges import (
    ACTIONS,
    Challenge,
    ChallengeError,
    ChallengeExpired,
    ChallengeForeign,
    ChallengeKind,
    ChallengeMalformed,
    ChallengeNotStarted,
    ChallengeUsed,
    attempts_exhausted_in_session,
    attempts_exhausted_today,
    check_challenge_use,
    draw_schedule,
    issue_challenge,
    mark_used,
    parse_challenge,
    start_challenge,
)
from pensioncert.liveness.speech import (
    DigitHearing,
    DigitRecognizer,
    DigitRecognizerUnavailable,
    PocketsphinxDigits,
    PocketsphinxMandarinDigits,
    SegmentDigitVerifier,
)

__all__ = [
    "ACTIONS",
    "Challenge",
    "ChallengeError",
    "ChallengeExpired",
    "ChallengeForeign",
    "ChallengeKind",
    "ChallengeMalformed",
    "ChallengeNotStarted",
    "ChallengeUsed",
    "CheckResult",
    "CheckStatus",
    "DigitHearing",
    "DigitRecognizer",
    "DigitRecognizerUnavailable",
    "FaceEngineUnavailable",
    "LivenessVerdict",
    "PocketsphinxDigits",
    "PocketsphinxMandarinDigits",
    "SegmentDigitVerifier",
    "analyse_recording",
    "attempts_exhausted_in_session",
    "attempts_exhausted_today",
    "check_challenge_use",
    "draw_schedule",
    "issue_challenge",
    "mark_used",
    "parse_challenge",
    "start_challenge",
]
