"""CPU profile of the worker path: ``run_verification`` on load-test jobs, in-process (SQLite).

    PYTHONPATH=src:. python scripts/profile_verification.py [JOBS]

Makes JOBS + 1 jobs the way the API does (retiree with the registry photo, session, timed
challenge, the first load-test clip), runs one to warm the models, then profiles the rest
with cProfile on *process* CPU time (the face mesh's own threads included) and prints the
milliseconds of CPU per job of each stage docs/scaling.md tabulates.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import sys
import tempfile
import time

STAGES = ("run_verification", "_analyse", "get", "face_embedding", "analyse_recording", "decode_media",
          "track_faces", "_identity_check", "decide_frames", "compute_face_descriptor", "compute_face_descriptors",
          "continuity",
          "_passive_check", "_check_actions", "_png", "_decide")


def main(jobs: int) -> None:
    os.environ.setdefault("PENSIONCERT_DATA_DIR", tempfile.mkdtemp(prefix="profile-verification-"))
    from pensioncert.keys import generate_env_lines
    from pensioncert.loadtest.clips import SCHEDULE_ENV, ensure_clips

    os.environ.update(dict(line.split("=", 1) for line in generate_env_lines()), **SCHEDULE_ENV)
    from tests.scale.conftest import make_job

    from pensioncert.jobs.redis_queue import preload_models
    from pensioncert.jobs.verification import run_verification
    from pensioncert.loadtest.population import png_bytes
    from pensioncert.synth import load_photo

    clip = next(iter(ensure_clips(1).values()))
    reference = png_bytes(load_photo("grace_hopper"))
    preload_models(fork=False)
    ids = [make_job(clip, reference, index=i) for i in range(jobs + 1)]
    run_verification(ids[0])
    profile = cProfile.Profile(time.process_time)
    started = time.process_time()
    profile.enable()
    for job_id in ids[1:]:
        run_verification(job_id)
    profile.disable()
    print(f"CPU per job: {(time.process_time() - started) / jobs * 1000:.0f} ms")
    cumulative: dict[str, float] = {}
    for (_file, _line, name), (_cc, _nc, _tt, total, _callers) in pstats.Stats(profile).stats.items():  # type: ignore[attr-defined]
        cumulative[name] = max(cumulative.get(name, 0.0), total)
    for name in STAGES:
        if name in cumulative:
            print(f"{name:26s} {cumulative[name] / jobs * 1000:8.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 4)
