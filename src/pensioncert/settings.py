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
    # The agency's time zone (IANA name): "today" in the API, CLI, back office and job decisions.
    time_zone: str = "Asia/Shanghai"
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
    """Face engine thresholds (see docs/biometrics.md; measured by ``pensioncert eval faces``)."""

    # dlib ResNet Euclidean distance at or below which two faces are the same person, for
    # descriptors of CLAHE-normalised chips averaged with their mirror image (the two settings
    # below). Measured by `pensioncert eval faces var/devset --build-devset` (51 people from
    # sample_photos(), 8 degraded variants each; pairs of images that pass the quality gates,
    # 609 genuine / 11481 impostor): FAR 0.035 % (4), FRR 2.6 % (16: the Yale subject across
    # lightings and copies of three 80-90 px mosaic faces), EER 0.49 %.
    # FAR <= 0.1 % allows up to 0.485 (FRR 2.0 %), but the impostor tail is steep there
    # (11 accepts at 0.485), so 0.48 keeps a margin. Plain dlib chips (before): 0.50 gave
    # FAR 0.113 %, FRR 5.6 %, EER 1.0 %. dlib's LFW default of 0.6 is far too lax for payments.
    match_threshold: float = 0.48
    # Embedding input (pensioncert.biometrics.matching): "none" or "clahe" on the chip's luma;
    # flip_average: mean descriptor of the chip and its mirror image (2 encoder runs per face).
    # Measured together (clahe alone: EER 0.67 %, FRR 3.6 % at FAR <= 0.1 %; flip alone is worse
    # than neither: EER 1.17 %); docs/biometrics.md has the table.
    chip_normalisation: str = "clahe"
    flip_average: bool = True
    # Who runs the ResNet: "onnx" (the weights read from dlib's model file, as an ONNX graph on
    # onnxruntime, one thread), "numpy" (the same weights on numpy's OpenBLAS) or "dlib" (dlib's
    # own code, built without BLAS here). Descriptors within 1e-6 of dlib's with either of ours.
    # Measured in one process (issue 15, 12 chips, 2 shared cores): onnx 17-25 ms a chip, numpy
    # 52-75 ms (17 ms on a quiet core earlier), dlib 76 ms. pensioncert/biometrics/resnet.py.
    encoder: str = "onnx"
    # Quality gates (pensioncert.biometrics.quality); the reasons are message codes face.*.
    min_face_px: int = 80  # face box width; the encoder's chip is 150 px, below ~80 px distances drift
    min_brightness: float = 60.0  # mean face luma 0-255
    max_brightness: float = 215.0
    max_clipped_fraction: float = 0.2  # face pixels at luma >= 250
    backlight_delta: float = 70.0  # background luma minus face luma
    # Laplacian var / var of the 112 px face crop: sharp samples >= 0.047, blurred (sigma 2.5) <= 0.03
    min_sharpness: float = 0.04
    max_yaw_offset: float = 0.25  # |nose position between the eyes - 0.5|; 0.25 is roughly 30 degrees of yaw
    # eye-patch luma / cheek luma: drawn sunglasses <= 0.28, bare eyes >= 0.43 (sample_photos)
    min_eye_ratio: float = 0.4
    circle_max_offset: float = 0.35  # face centre to circle centre, in radii
    # Video decision (pensioncert.biometrics.video)
    video_max_analysed_frames: int = 40  # evenly spaced frames run through detection + quality
    video_segments: int = 3  # one embedded frame per time segment: a mid-video swap is embedded
    video_min_usable_frames: int = 3


class LivenessSettings(BaseModel):
    """Challenge and liveness thresholds (see docs/liveness.md for the measurements quoted)."""

    # Challenges (DOMAIN.md: single-use, minutes, bound to one session; a few tries then another channel)
    challenge_ttl_seconds: int = 300
    max_attempts_per_session: int = 3
    max_attempts_per_retiree_per_day: int = 5
    # ... and over any 30 days: the bound on patience. Every start counts (challenge shopping), and a
    # replay of an old recording fits a fresh challenge with a small chance p per start (eval timing,
    # eval attacks: docs/liveness.md "Threats"), so an attacker's chance in 30 days is <= 12 p;
    # without this, 5 a day for a 3-month window is 450 starts. A genuine user who needs more goes to
    # an offline channel (window, community workstation, door-to-door).
    max_attempts_per_retiree_per_30_days: int = 12
    min_actions: int = 2
    max_actions: int = 3
    # Timed prompts (the freshness proof, docs/liveness.md "Timed challenges"): the server draws a
    # schedule with SystemRandom and reveals it only when the page starts recording. The first
    # prompt comes after a settling pause; each further prompt after a random gap. Gaps are long
    # enough for an elderly user to finish one action (turn and return ~1.2 s) before the next.
    # The spread is what makes an earlier recording of the same content miss today's windows:
    # `pensioncert eval timing` (chosen on --split tuning, quoted on report) with first prompt
    # 1.0-1.8 s, action gaps 1.6-2.8 s, digit gaps 0.7-1.8 s let a same-content replay fit 86 %
    # (2 actions), 72 % (3 actions) and 13 % (4 Mandarin digits) of fresh schedules; with 1.0-3.0,
    # 1.6-4.0 and 0.7-2.2 s: 51 %, 32 % and 4.6 %, recordings 7.6-10.4 s on average (max 13.4 s),
    # genuine 100 % in both. Wider spreads gain little more per second of recording.
    first_prompt_min_seconds: float = 1.0
    first_prompt_max_seconds: float = 3.0
    action_gap_min_seconds: float = 1.6
    action_gap_max_seconds: float = 4.0
    # Digits are shown one at a time (issue #12: random gaps 0.7-1.8 s, widened as above).
    digit_gap_min_seconds: float = 0.7
    digit_gap_max_seconds: float = 2.2
    # The page keeps recording this long after the last prompt (room for a slow last response).
    record_tail_seconds: float = 2.8
    # A timed answer must arrive within the schedule's length plus this slack (slow 3G uploads of
    # a ~2 MB clip take 10-30 s), else liveness.challenge_expired.
    answer_slack_seconds: float = 45.0
    # An untimed answer (native camera fallback) must arrive within this long after the start.
    untimed_answer_seconds: float = 240.0
    # Fail closed (docs/liveness.md): a recording shorter than this is liveness.too_short and no other
    # check runs. The shortest timed recording is 1.0 + 2.8 = 3.8 s (first prompt + tail) and the
    # untimed fallback records >= 5 s, so 2.5 s only refuses uploads no page produces.
    min_seconds: float = 2.5
    # ... filmed at a camera's frame rate: at least this many analysed frames per second and no
    # gap between frames longer than max_frame_gap_seconds (liveness.too_few_frames). Phones
    # record 24-30 fps (analysed at 15); a 2-frame file stretched over seconds has one long gap.
    min_frames_per_second: float = 8.0
    max_frame_gap_seconds: float = 0.5
    # Frames with a face the challenge, passive and identity checks need to run at all
    # (liveness.too_few_face_frames): 2.5 s at 8 fps with 20 % of frames allowed to miss the face.
    min_face_frames: int = 16
    # Analysis resolution/rate: faces in a 640 px selfie are ~250 px wide, enough for the
    # 468-point mesh; 15 fps keeps a 4 s clip at ~60 mesh calls (~3–6 ms each measured).
    analysis_max_side: int = 640
    analysis_fps: float = 15.0
    # Actions, relative to the recording's own neutral baseline (median).
    # blink: eye-aspect ratio drops below this fraction of baseline.
    blink_ear_ratio: float = 0.7
    # open_mouth: inner-lip gap / mouth width rises by this much over baseline. Rendered openings
    # measured 0.19-0.22 (astronaut, lips parted at rest) to 0.50-0.56 (grace_hopper); a 30-degree
    # head turn without opening moved it by up to 0.10; prints <= 0.02. Re-measured on tuning
    # renders (4 faces x 5 seeds, each action alone, rise = max - median): openings 0.17-0.21 on
    # ocv_actress_a (lip-landmark jitter ~0.05 at rest), 0.21-0.54 on the others; without an
    # opening, nods and blinks <= 0.078 (turns lift it up to 0.38 on ocv_actress_a, forgiven as
    # CROSSTALK during the turn). 0.15 missed one in sixteen genuine actions on the tuning seeds
    # (ocv_actress_a at 0.146 in a whole challenge); 0.12 sits between 0.078 and 0.17 (docs/liveness.md).
    mouth_open_delta: float = 0.12
    # turn_left/right: nose offset from face centre, as a fraction of face width, changes by this.
    turn_yaw_delta: float = 0.2
    # nod: nose height between eyes and chin, as a fraction of that span, changes by this.
    nod_pitch_delta: float = 0.08
    # Timed actions: each requested action must begin (its signal passing half the threshold) this
    # long after its prompt. Measured on synthetic subjects following schedules (eval liveness,
    # latency 0.3-2.0 s): onsets 0.05-0.2 s after the movement starts, so 0.2-2.2 s latency lands
    # at 0.25-2.4 s; 2.6 s keeps a margin for the slowest, 0.15 s refuses answers made before the
    # prompt could be read (human simple reaction time >= ~0.2 s).
    action_response_min_seconds: float = 0.15
    action_response_max_seconds: float = 2.6
    # Face presence: share of analysed frames that may miss the face or leave the circle.
    # Suite: 0.0 on every clip, turns of 30 degrees included; 0.2 leaves room for a real hand.
    max_missing_face_fraction: float = 0.2
    # The on-screen circle: nose tip within this many half-frame-heights of the centre.
    circle_radius: float = 0.8
    # More than one face in at least this many analysed frames fails "exactly one face".
    # Suite: two_faces clips 75/75 frames, every other clip 0 (one stray frame is tolerated).
    min_multi_face_frames: int = 2
    # ... looked for on one frame drawn at random from each group of this many analysed frames, and
    # around every frame where two faces are found, for as long as they stay (landmarks.track_faces):
    # a second face present 5 consecutive frames (0.33 s at 15 fps) is always found and counted in
    # each of its frames; 2, 3, 4 frames with probability >= 5/9, 7/9, 8/9. Measured (issue 15):
    # the mesh tracking one face costs 9 ms a frame against 14-15 ms when it also ran its face
    # detector on every frame (the detector alone ~6 ms); suite: two_faces still 75/75 frames with
    # 3 as with 1, every other clip 0, the main face's landmarks identical. 1 = every frame.
    second_face_every_frames: int = 3
    # Digits (English, pocketsphinx four-digit grammar): positions that must match the challenge.
    # 40 espeak-ng strings: exact 30-33/40, >= 3 right 38/40; a random replay passes 3-of-4 by
    # chance with p = 0.37 %. Suite: genuine 3-4, wrong_digits 0-1.
    digits_min_matching: int = 3
    # Timed digits: each digit's voice onset (liveness.speech.voice_segments) must come this long
    # after the digit was shown, and consecutive onsets must be spaced like the prompts within
    # digit_gap_tolerance_seconds (a reader's latency is steady; a recording read at its own pace,
    # or for another schedule, drifts off). Synthetic readers (latency 0.3-2.0 s, +-0.1 s per
    # digit): onsets 0.02-0.08 s after the voice starts, gap errors <= 0.25 s.
    digit_response_min_seconds: float = 0.15
    digit_response_max_seconds: float = 2.6
    digit_gap_tolerance_seconds: float = 0.35
    # ... and the mouth must open while each digit is voiced: mouth ratio over its resting value.
    digit_mouth_open_delta: float = 0.03
    # Mandarin/neutral evidence: syllables counted by energy peaks must be within this of four.
    # Suite: genuine Mandarin 4/4 every time; 2- and 6-digit readings counted 2 and 6;
    # tests/liveness/test_speech.py: counts of 2-5 digits off by at most one over 8 voices.
    syllable_tolerance: int = 1
    # Mandarin content (timed digits only): at least this many of the four voiced digits must
    # verify the digit that was asked for (liveness.speech.PocketsphinxMandarinDigits: the English
    # acoustic model with a Mandarin digit lexicon, margin 10 log units per 10 ms). k = 3 fixed
    # beforehand (one misheard digit tolerated, as for English); the margin chosen on the tuning
    # split of `pensioncert eval mandarin` (plain espeak cmn voice): genuine 4-digit pass 99.5 %,
    # a reading of 4 random digits passes 1.1 %. Held-out espeak voices (report split, 6 voice
    # variants): genuine 88.4 % (69-98 % by voice), random digits 1.3 %; k = 2 would give 97.6 %
    # and 11.2 %. Synthetic voices only: measure real speakers with the pilot kit before relying
    # on it. 0 turns the check off (timing, syllable count and lip-voice sync remain).
    mandarin_digit_min_verified: int = Field(default=3, ge=0, le=4)
    # Audio-visual synchrony: correlation of mouth opening (3-frame median) and voice energy.
    # eval liveness suite: genuine 0.88-0.97; dubbed prints and silent mimes -0.08-0.29. Timed
    # readings on the tuning faces (docs/liveness.md "Lip-voice sync"): genuine 0.49-0.98 (the
    # low end one face, ocv_actress_a, with jittery lip landmarks), her talking video dubbed with
    # an on-schedule reading -0.28-0.22. 0.4 lies between the worst dub (0.29) and the worst genuine.
    min_av_sync: float = 0.4
    # Passive: a recording whose non-similarity landmark motion (RMS, in inter-ocular distances)
    # exceeds planar_min_motion and which a homography explains down to planar_max_ratio is flat.
    # Ideal projections (tests/liveness/test_signals.py, 45-degree tilt): print ratio ~0.11, head
    # ~0.75. Synthetic suite: genuine clips 0.38-0.97 (0.38 at motion 0.05, a digits clip); the
    # MediaPipe mesh on a moving print gave 0.39-0.47 at motion 0.06-0.09 (landmark jitter), so
    # this is a backstop for strongly tilted prints; prints fail the challenge itself.
    planar_max_ratio: float = 0.3
    planar_min_motion: float = 0.06
    # Frozen: share of consecutive frame pairs that are (near) identical (genuine: 0.0).
    max_frozen_fraction: float = 0.3
    # ... or any run of near-identical frames this long (a camera never repeats a frame).
    # Suite: freezes 0.93-1.6 s; genuine 0.0; prints <= 0.07 (one pair).
    max_frozen_seconds: float = 0.4
    # Screen replay: spectral peak over median on the face crop (a display's pixel grid, moiré).
    max_moire: float = 60.0
    # Looping: best repeat distance / typical adjacent-frame difference below this means a loop.
    # Suite: loops 0.22-0.35, freezes 0.07-0.14; genuine 2.6-4.0, still prints >= 1.59.
    loop_ratio: float = 0.8
    loop_min_seconds: float = 0.5
    # No motion: 95th-percentile neighbouring-frame difference (grey levels, 80×60 thumbnails).
    # Suite: genuine 1.9-9.1, still prints 1.3-1.6 (camera noise): a backstop for static uploads.
    min_frame_motion: float = 0.3
    # Digits: the mouth (inner-lip gap / width) must open and close by at least this much.
    # Suite: genuine speakers 0.19-0.39; prints 0.001-0.02.
    min_mouth_range: float = 0.05
    # Identity on the whole recording (liveness.analyse.sample_frames): one frame drawn with
    # SystemRandom from each of max(identity_min_samples, identity_samples_per_second x seconds)
    # equal stretches is embedded and must be the reference person (issue #12.3).
    identity_min_samples: int = 6
    identity_samples_per_second: float = 1.0
    # ... drawn among frames whose head is turned or nodded less than this (in action thresholds:
    # 0.5 = about 7 degrees of yaw). Measured on a genuine astronaut actions clip (eval cell 1000):
    # frames turned by >= 1 threshold embedded 0.40-0.54 from her photo (threshold 0.48), frames
    # under 0.3 at 0.34-0.38; drawn anywhere, one run of the eval failed her. A second spent
    # turned throughout gives its most frontal frame.
    identity_max_turn: float = 0.5
    # Each sampled frame may lie this much over face.match_threshold; their mean may not. Measured
    # (4 synthetic subjects, frames against their own photo and the 3 others'): genuine
    # near-frontal frames up to 0.50 (ocv_actress_a; one such frame failed her at 0.48), impostor
    # frames never under 0.57.
    identity_frame_margin: float = 0.04
    # Continuity of the face track (liveness.continuity): a neighbouring-frame difference this many
    # times the recording's median one is a cut. Synthetic suite: genuine <= 5.8 (fast turns),
    # splices of two subjects at the same pose on the same background 11.7-13.6.
    max_diff_spike: float = 9.0
    # ... or rigid-landmark shapes of neighbouring frames this far apart (RMS, unit-size shapes).
    # Genuine <= 0.15 (turns); two subjects at the same pose differ by only 0.04-0.09, so this is a
    # backstop for gross jumps; the random identity samples catch same-pose splices.
    max_shape_jump: float = 0.25
    # Replay of an earlier recording of the same retiree (liveness.replay; docs/liveness.md
    # "Replays of an earlier recording"): the new recording's motion trace is aligned with each kept
    # trace (best shift and speed for the mean per-signal correlation of the signals' fast parts),
    # then the same correlation in 1.5-s windows along that alignment; its median over the 2/3 of
    # the windows with the least mouth/yaw/pitch motion is compared here. Chosen on `pensioncert
    # eval replay --split tuning` (grace_hopper, ocv_actress_a; 12 kept recordings): replays
    # (re-encoded; cropped, scaled, brightened, trimmed; 1.08x and 0.8x as fast) 0.48-0.84;
    # genuine re-performances of the same challenge, the same actions or other actions <= 0.34;
    # the threshold is the middle of that gap. The share of windows: 2/3 gave the widest gap
    # (all windows 0.12, half 0.10, a third none; an end-to-end genuine answer to last year's
    # actions on tuning seed 0 reached 0.46 with all windows). Report split: docs/liveness.md.
    replay_max_similarity: float = 0.41
    replay_window_seconds: float = 1.5
    replay_quiet_share: float = 0.67
    replay_fast_window_frames: int = 9  # the moving average removed (0.6 s at 15 fps)
    replay_min_overlap_seconds: float = 3.0  # a shift counts only over this much shared recording ...
    replay_min_overlap_fraction: float = 0.6  # ... and this share of the shorter one
    # Speeds searched (a replay sped up or slowed to fit a new schedule): log-spaced 3 % steps.
    replay_min_speed: float = 0.67
    replay_max_speed: float = 1.5
    replay_speed_step: float = 1.03
    replay_max_traces: int = 12  # the most recent kept traces compared (one a year, plus retries)


class OcrSettings(BaseModel):
    """ID-card OCR settings (see docs/ocr.md; figures from ``pensioncert eval ocr``)."""

    # Text detection runs on a copy whose longer side is at most this many pixels;
    # recognition reads crops of the full image. 960 keeps detection under ~0.3 s/side.
    detect_side: int = 960
    # Photos larger than this (longer side, px) are downscaled first: a card needs no more.
    max_image_side: int = 2400
    # onnxruntime intra-op threads; 0 = onnxruntime's default (all cores).
    threads: int = 0
    # Text sharpness (documents/quality.py: Laplacian std / contrast at 32 px line height)
    # below which a side is "too blurred". Measured on generated phone photos: >= 0.45 for
    # the eval's distorted set (Gaussian blur sigma <= 1.3 px), 0.27-0.33 at sigma 2,
    # 0.19-0.25 at sigma 2.5; fields start to be lost from 0.22 down.
    blur_threshold: float = 0.3
    # Largest blown-out highlight (all channels >= 245) covering more than this fraction
    # of the card (portrait excluded: its background is white) = glare.
    glare_fraction: float = 0.01
    # A card corner further than this outside the photo (mm on the card) = card cut off.
    # Corners are extrapolated from the labels: measured error up to ~3.6 mm under the
    # eval's perspective distortion, and a corner's rounded 3.2 mm holds no information.
    cut_off_margin_mm: float = 4.0
    # A name read with a recognition score below this (or only on a re-read) is "uncertain": the
    # user may correct it (the card flow allows a confirmed correction only there). Measured on 30
    # generated fronts (seeds 5000-5029, half distorted): the one misread name scored 0.907,
    # correct readings 0.931-1.0; 0.95 flags the misread with margin (4 correct ones too: harmless).
    name_certain_score: float = 0.95


class UploadSettings(BaseModel):
    """Limits on what a phone may upload."""

    max_video_bytes: int = 25 * 1024 * 1024
    max_image_bytes: int = 8 * 1024 * 1024
    # Decoded size limit checked from the header before decoding (decompression bombs).
    # 50 MP is above any phone's default photo mode (12-50 MP) and costs at most 150 MB decoded.
    max_image_pixels: int = 50_000_000
    max_video_seconds: float = 20.0
    # Video geometry, checked from the header before decoding: 4K phones stay under 3840 px;
    # anything larger is a decompression bomb, not a selfie.
    max_video_side: int = 3840
    max_video_pixels: int = 3840 * 2160


class SecuritySettings(BaseModel):
    """Keys and protection at rest. The default keys are for development only: ``serve`` and
    ``worker`` refuse to start on them (pensioncert.keys); ``pensioncert keys generate`` makes real ones."""

    # 32-byte urlsafe-base64 key for AES-GCM (media, templates, ID numbers).
    data_key: str = "ZGV2ZWxvcG1lbnQta2V5LW5vdC1mb3ItcHJvZHVjdGlvbiE="
    # Key for the keyed hash that lets us look ID numbers up without storing them in clear.
    lookup_key: str = "development-lookup-key"
    media_retention_days: int = 30
    # Motion traces (liveness.replay: seven signals a frame, no image) are kept one cycle and its
    # window, so next year's attempt is compared with this year's recordings.
    motion_trace_retention_days: int = 400
    retention_sweep_hours: float = 6.0  # how often the API process runs the purge
    # Abuse controls (pensioncert.api.protection; docs/security.md). Counters are per window from the first hit,
    # in Redis when jobs.backend is "redis" (shared by API replicas), else in the API process.
    # Per IP: generous, since a community workstation or a carrier NAT puts many people behind one address.
    rate_limit_enabled: bool = True
    # Reverse proxies (addresses or CIDR ranges, JSON list) whose X-Forwarded-For is believed; from
    # anyone else the header is ignored and the peer address counts (pensioncert.clientaddr).
    trusted_proxies: list[str] = Field(default_factory=list)
    ip_requests_per_minute: int = 600
    ip_uploads_per_hour: int = 240
    # Sessions started per client address per hour (a carrier NAT or a community workstation: generous),
    # and per device (X-Device-Id header, else address + User-Agent): the device id is chosen by the
    # client, so it only ever adds a limit on top of the address's.
    ip_sessions_per_hour: int = 120
    device_sessions_per_hour: int = 30
    # Name + ID number attempts (identity and queries), against enumeration of the registry: a person
    # mistyping needs 2-3 tries; a session that used 5 starts again (and counts against its address).
    session_identity_attempts: int = 5
    ip_identity_per_hour: int = 30  # a community workstation helps ~10 people an hour, ~2 tries each
    # Per retiree (keyed hash of the ID number / the session's retiree): guessing and replay caps.
    retiree_identity_per_hour: int = 10
    retiree_uploads_per_day: int = 12
    # Retry-After of a 503 while the database is unreachable (a PostgreSQL restart or fail-over takes ~5-30 s).
    unavailable_retry_after_seconds: int = 10
    # Largest request body of any non-upload API call (JSON), bytes.
    max_json_bytes: int = 64 * 1024
    # Largest body of a page or back-office form (not the registry/evidence uploads, admin.max_upload_bytes):
    # the largest form (an offline certification with notes) is a few KB.
    max_form_bytes: int = 256 * 1024


class AdminSettings(BaseModel):
    """Back-office policy (see docs/admin.md)."""

    session_idle_minutes: int = 30  # staff workstations are shared: idle sessions end quickly
    session_max_hours: int = 10  # one working day
    min_password_length: int = 10
    # Sign-in back-off (admin.auth.login; docs/security.md). Failures of one username from one client
    # address within the window lock that pair (a person mistypes 2-3 times; 5 is a guesser).
    lockout_failures: int = 5
    lockout_window_minutes: int = 15
    # Failures of one username from all addresses within the window above which every address gets one try
    # per lockout_slow_seconds: a distributed guesser is slowed to ~90 guesses per 15 min per address,
    # and the real user is never locked out by someone else.
    lockout_username_ceiling: int = 50
    lockout_slow_seconds: int = 10
    # A case enters the review queue after as many failures as the per-session retry cap,
    # counted over this look-back (older unresolved attempts belong to a past cycle).
    failures_for_review: int = 3
    review_lookback_days: int = 90
    # An offline visit may be entered later, but not from a past cycle.
    offline_max_backdate_days: int = 31
    # Registry and passive-evidence files: a city's registry export (~1 M rows of ~150 bytes) stays below this.
    max_upload_bytes: int = 50 * 1024 * 1024


class JobSettings(BaseModel):
    """Verification jobs: in-process by default, Redis queue when scaled out."""

    backend: str = "inprocess"  # "inprocess" | "redis"
    redis_url: str = "redis://127.0.0.1:6379/0"
    queue_name: str = "pensioncert-verify"  # also the prefix of the rate-limit and sweeper keys
    # A verification takes seconds; a lease this long without a decision means the worker died.
    lease_seconds: float = 300.0
    max_runs: int = 3  # unexpected errors are retried this many times, then the user is told to try again
    # Redis workers: how often one of them re-queues jobs whose lease expired or that waited too long.
    sweep_seconds: float = 30.0
    job_timeout_seconds: int = 900  # RQ kills a run after this (a hung decoder)
    # Redis down: a worker retries with back-off up to this long between tries (RQ's default 60 s).
    # It sleeps on its main thread, where Python runs signal handlers: a SIGTERM that the kernel
    # delivers to another thread (MediaPipe's, redis-py's pub/sub) waits for that sleep to end,
    # so this bounds how long a stop takes during an outage, and how late the worker notices
    # that Redis is back (a stop took over 30 s in CI with 60).
    redis_retry_max_seconds: float = Field(default=5.0, gt=0)


class FlowSettings(BaseModel):
    """The phone flow (see docs/channels.md)."""

    # With neither a registry photo nor an ID-card portrait there is nothing to compare a face with.
    # True (the demo turns it on): keep the best frame of a live recording as the reference and send
    # the record to manual review. Never a silent pass. False (default): such users are sent to a
    # channel that has a reference (ID-card scan) or to an offline channel.
    enroll_reference_on_first_certification: bool = False
    # A face matched only against this session's ID-card portrait (no registry photo) goes to manual
    # review: the card may be someone else's, or forged with the holder's face. True only for agencies
    # that accept a card portrait as the reference. Either way the portrait becomes the stored
    # reference only when a reviewer accepts the case.
    trust_card_portrait: bool = False
    # Address printed in the channel QR codes; empty = the address the request came to.
    public_base_url: str = ""
    # A phone session (identify → record → result) is refused after this long.
    session_ttl_minutes: int = 60
    # How long the page records is no setting: it follows the challenge's schedule
    # (liveness.record_tail_seconds after the last prompt; ``Challenge.record_seconds``).


class NotifySettings(BaseModel):
    """SMS notifications (docs/notify.md): the outbox, the reminders and the sender."""

    # Reminders go out this many days before a window closes (the due date), the most urgent
    # applicable one only: a sweep that missed the 30-day mark sends the 7-day one, never both.
    reminder_days: list[int] = Field(default_factory=lambda: [30, 7])
    # "export": nothing leaves the machine; rows are marked ready and `pensioncert notify export`
    # writes the file the agency's SMS platform imports. "http": POST each message to gateway_url.
    provider: str = "export"
    gateway_url: str = ""
    gateway_token: str = ""  # sent as "Authorization: Bearer …" when set
    # Chinese SMS gateways typically allow a few hundred messages a minute per account; 60 keeps
    # a 10,000-retiree reminder day under three hours and far below any carrier's spam threshold.
    per_minute: int = 60
    timeout_seconds: float = 10.0
    # Tries of one message within one run (connection errors, timeouts, HTTP 429/5xx), with
    # exponential back-off starting at backoff_seconds; then the row waits for the next run.
    tries_per_run: int = 3
    backoff_seconds: float = 2.0
    # After this many tries over all runs a message is given up (state "failed", shown to staff).
    max_attempts: int = 9
    # A row left "sending" by a crashed sender this long ago is tried again (the gateway drops
    # the duplicate by its idempotency key).
    sending_lease_minutes: int = 15
    language: str = "zh-CN"  # the registry holds no language per retiree; SMS go out in Chinese
    signature: str = ""  # e.g. "【深圳社保】": Chinese carriers require the sender's signature first


class ReadinessSettings(BaseModel):
    """The live preview's readiness check (api/readiness.py): one small JPEG, never stored."""

    # The page sends about two frames a second; a session may send this many a minute.
    frames_per_minute: int = 150
    max_jpeg_bytes: int = 40 * 1024  # a 360x480 frame at JPEG quality 0.7 is ~15 KB
    max_side: int = 640  # a frame larger than this is refused, not decoded
    # Face width over the circle's radius. Inside 0.9-2.2 the analysed face is 90-300 px wide in the
    # recording's 640x480 frame; the liveness mesh wants >= 80 px (FaceSettings.min_face_px).
    min_fill: float = 0.9
    max_fill: float = 2.2
    # Face centre to circle centre in radii (the recording check allows nose offsets up to 0.8 of
    # a half-frame height, about 1.0 radius): 0.45 leaves room to drift while recording.
    max_offset: float = 0.45
    # Mean luma of the face's inner box, 0-255 (same scale as FaceSettings.min/max_brightness).
    min_brightness: float = 60.0
    max_brightness: float = 215.0
    # A frame this dark with no face found is "too dark", not "no face" (a lit room is >= 80).
    dark_scene_luma: float = 45.0
    # The face centre moved more than this fraction of its width since the previous frame: hold still.
    max_move: float = 0.12


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
    admin: AdminSettings = Field(default_factory=AdminSettings)
    flow: FlowSettings = Field(default_factory=FlowSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    readiness: ReadinessSettings = Field(default_factory=ReadinessSettings)

    @property
    def database_url(self) -> str:
        if self.storage.database_url:
            return self.storage.database_url
        return f"sqlite:///{(self.data_dir / 'pensioncert.sqlite3').resolve()}"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """Process-wide settings, read once from the environment."""
    return Settings()
