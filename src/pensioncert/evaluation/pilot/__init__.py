"""The agency's pilot validation kit (issue #16): manifest, run through the job path, report, thresholds.

    manifest = load_manifest("pilot/manifest.csv")      # validated, row errors reported
    decisions = run_pilot(manifest.rows, workers=2)     # every recording through the harness
    write_report(Path("out"), decisions)                # report.json, report.html, decisions.csv
"""

from pensioncert.evaluation.pilot.manifest import Manifest, ManifestError, PilotRow, load_manifest
from pensioncert.evaluation.pilot.report import write_report
from pensioncert.evaluation.pilot.run import RowDecision, run_pilot

__all__ = ["Manifest", "ManifestError", "PilotRow", "RowDecision", "load_manifest", "run_pilot", "write_report"]
