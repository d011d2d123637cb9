"""The progress lines nifi/stack prints while Maven assembles NiFi and Go builds MinIO or SeaweedFS."""

import sys

from nifi.provisioning.go_build import go_progress
from nifi.provisioning.nifi_assembly import maven_download
from nifi.provisioning.processes import StepTally, progress_line, run_step

MAVEN_OUTPUT = """\
[INFO] Building nifi-standard-nar 2.3.0                                   [1/6]
[INFO] Downloading from central: https://repo.maven.apache.org/maven2/org/apache/nifi/nifi-api/2.3.0/nifi-api-2.3.0.pom
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/nifi/nifi-api/2.3.0/nifi-api-2.3.0.pom (4.2 kB at 21 kB/s)
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/org/apache/nifi/nifi-api/2.3.0/nifi-api-2.3.0.jar (1.5 MB at 3.1 MB/s)
[INFO] Downloaded from central: https://repo.maven.apache.org/maven2/commons-io/commons-io/2.18.0/commons-io-2.18.0.pom.sha1 (475 B at 9.5 kB/s)
[WARNING] Downloaded from nowhere: this line is not a transfer
"""

GO_OUTPUT = """\
go: downloading github.com/minio/minio v0.0.0-20260212201848-7aac2a2c5b7c
go: downloading github.com/klauspost/compress v1.18.0
internal/goarch
os
github.com/minio/minio/internal/config
# github.com/minio/minio/cmd
cmd/server-main.go:12:2: undefined: thing
"""


def tally(output, counts):
    counted = StepTally(counts)
    for line in output.splitlines(keepends=True):
        counted.add(line)
    return counted


def test_maven_downloads_are_counted_with_their_sizes():
    counted = tally(MAVEN_OUTPUT, maven_download)
    assert dict(counted.items) == {"files downloaded": 3}
    assert counted.size == 4_200 + 1_500_000 + 475
    assert counted.summary() == "3 files downloaded (1.5 MB)"


def test_go_counts_downloaded_modules_and_compiled_packages_and_shows_errors_only():
    counted = tally(GO_OUTPUT, go_progress)
    assert dict(counted.items) == {"modules downloaded": 2, "packages compiled": 3}
    assert counted.summary() == "2 modules downloaded, 3 packages compiled"
    shown = [line for line in GO_OUTPUT.splitlines() if go_progress(line) is None]
    assert shown == ["# github.com/minio/minio/cmd", "cmd/server-main.go:12:2: undefined: thing"]


def test_the_progress_line_names_the_elapsed_time_and_what_was_counted():
    assert progress_line(135.7, "812 files downloaded (94.2 MB)") == "  ... 2m15s: 812 files downloaded (94.2 MB)"
    assert progress_line(9, "") == "  ... 0m09s"
    assert StepTally(maven_download).summary() == ""


def test_a_quiet_step_prints_progress_while_it_runs(monkeypatch, capsys):
    monkeypatch.setattr("nifi.provisioning.processes.PROGRESS_EVERY_SECONDS", 0.2)
    script = "import sys, time; print('go: downloading a v1', flush=True); time.sleep(1.5); print('a/b', flush=True)"
    code, output = run_step("a quiet step", [sys.executable, "-c", script], counts=go_progress,
                            shows=lambda line: go_progress(line) is None)
    printed = capsys.readouterr().out
    assert code == 0 and output == "go: downloading a v1\na/b\n"
    assert "[stack]   ... 0m00s: 1 modules downloaded" in printed
    assert printed.strip().splitlines()[-1].endswith(": 1 modules downloaded, 1 packages compiled")
