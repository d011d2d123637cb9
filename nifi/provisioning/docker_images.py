"""The images of docker-compose.yml, built from the same pieces as the native stack (`nifi/stack images`).

NiFi is assembled, the processors NAR built and MinIO compiled exactly as `nifi/stack up` does
(and from the same cache); they are staged in .stack/docker/build/, which the Dockerfiles copy
from, and `docker compose build` makes the images. The Dockerfiles start FROM debian:trixie-slim:
where no registry serves it (air-gapped hosts, CI here), the same image is made locally from
Debian's packages with mmdebstrap and `docker import`ed under that name. Without the Compose v2
plugin (`docker compose`; Debian 12 packages only the v1 `docker-compose`, which has no `--wait`),
the plugin is built from its Go module.
"""

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

from .debian_packages import ensure_commands
from .go_build import go_version
from .java import find_java
from .minio import MIN_GO, MINIO_VERSION, minio_binary
from .nifi_assembly import NIFI_VERSION, assemble_nifi
from .paths import CACHE, DOCKER_BUILD, DOCKER_STATE, REPO
from .processes import StackError, run_step, say
from .processors_nar import build_processors_nar

BASE_IMAGE = "debian:trixie-slim"
BASE_SUITE = "trixie"
IMAGE_PYTHON = "3.13"  # trixie's python3: the NAR bundles wheels for it (nifi.Dockerfile checks that they match)
BASE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
COMPOSE_MODULE = "github.com/docker/compose/v2"
COMPOSE_VERSION = "v2.40.3"
IMAGES = (f"ecommerce-pipeline/nifi:{NIFI_VERSION}", f"ecommerce-pipeline/minio:{MINIO_VERSION}")
BUILD_PROGRESS = ("] FROM", "] RUN", "] COPY", "ERROR", "Built", "naming to")
# What the image's start-up code needs beyond Debian's packages: psutil (processes) and MinIO's
# admin API (minio-init creates the flow's and the analysts' users), at the project's pins.
STARTUP_PACKAGES = ("minio", "psutil")
PIP_PROGRESS = re.compile(r"^(Collecting|Successfully|ERROR)")


def build_images() -> None:
    require_engine()
    ensure_compose_plugin()
    ensure_base_image()
    stage_build_context()
    shown = set()

    def build_step(line: str) -> bool:  # BuildKit prints a step's title when it starts and again when it ends
        if line in shown or not any(mark in line for mark in BUILD_PROGRESS):
            return False
        shown.add(line)
        return True

    code, output = run_step("docker: building the images (docker compose build)",
                            ["docker", "compose", "-f", str(REPO / "docker-compose.yml"), "--progress", "plain", "build"],
                            {"COMPOSE_BAKE": "false"}, shows=build_step)
    if code != 0:
        raise StackError(f"`docker compose build` failed:\n{output[-3000:]}")
    for image in IMAGES:
        say(f"docker: {image} {image_size(image)}")


def require_engine() -> None:
    if not shutil.which("docker"):
        raise StackError("the images are built with Docker, and `docker` is not on PATH")
    engine = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True)
    if engine.returncode != 0:
        raise StackError(f"no Docker engine answers (start dockerd): {engine.stderr.strip()[:300]}")


def ensure_compose_plugin() -> None:
    """`docker compose` (v2), built from its Go module into ~/.docker/cli-plugins when missing."""
    if subprocess.run(["docker", "compose", "version"], capture_output=True).returncode == 0:
        return
    plugin = CACHE / "docker-compose" / COMPOSE_VERSION / "docker-compose"
    if not plugin.exists():
        if go_version() < MIN_GO:
            raise StackError(f"`docker compose` is missing, and building it needs Go >= {MIN_GO[0]}.{MIN_GO[1]}")
        _build_compose_plugin(plugin)
    target = Path(os.environ.get("DOCKER_CONFIG", Path.home() / ".docker")) / "cli-plugins" / "docker-compose"
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy2(plugin, target)
    say(f"docker: installed the Compose plugin {COMPOSE_VERSION} as {target}")


def _build_compose_plugin(plugin: Path) -> None:
    """`go install` refuses the module (its go.mod has exclude directives): build it from a copy of its source."""
    download = subprocess.run(["go", "mod", "download", "-json", f"{COMPOSE_MODULE}@{COMPOSE_VERSION}"],
                              capture_output=True, text=True)
    if download.returncode != 0:
        raise StackError(f"the Go module proxy did not serve {COMPOSE_MODULE}@{COMPOSE_VERSION}:\n{download.stdout[-2000:]}")
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "compose"
        shutil.copytree(json.loads(download.stdout)["Dir"], source)
        for path in [source, *source.rglob("*")]:
            path.chmod(path.stat().st_mode | 0o200)
        plugin.parent.mkdir(parents=True, exist_ok=True)
        code, output = run_step(
            f"docker: building the Compose plugin {COMPOSE_VERSION} with Go (first time only, a few minutes)",
            ["go", "build", "-C", str(source), "-trimpath", "-o", str(plugin.with_suffix(".partial")),
             "-ldflags", f"-s -w -X {COMPOSE_MODULE}/internal.Version={COMPOSE_VERSION}", "./cmd"],
            {"CGO_ENABLED": "0"})
    if code != 0:
        raise StackError(f"building the Compose plugin failed:\n{output[-3000:]}")
    plugin.with_suffix(".partial").replace(plugin)


def ensure_base_image() -> None:
    """debian:trixie-slim: present, else pulled, else made here from Debian's packages."""
    if _docker_succeeds("image", "inspect", BASE_IMAGE):
        return
    say(f"docker: pulling {BASE_IMAGE}")
    if _docker_succeeds("pull", BASE_IMAGE):
        return
    say(f"docker: no registry serves {BASE_IMAGE}; making it from Debian's packages")
    make_base_image()


def make_base_image() -> None:
    """A minimal Debian (mmdebstrap's minbase variant, as the slim images are) imported under BASE_IMAGE."""
    ensure_commands({"mmdebstrap": "mmdebstrap"}, f"making {BASE_IMAGE} from Debian's packages")
    DOCKER_STATE.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=DOCKER_STATE) as scratch:
        rootfs = Path(scratch) / "rootfs.tar"
        code, output = run_step(f"docker: mmdebstrap --variant=minbase {BASE_SUITE} (about a minute)",
                                ["mmdebstrap", "--variant=minbase", BASE_SUITE, str(rootfs)],
                                shows=lambda line: line.startswith(("I: success", "E:")))
        if code != 0:
            raise StackError(f"mmdebstrap failed:\n{output[-3000:]}")
        imported = subprocess.run(["docker", "import", "--change", f"ENV PATH={BASE_PATH}", "--change", 'CMD ["bash"]',
                                   str(rootfs), BASE_IMAGE], capture_output=True, text=True)
    if imported.returncode != 0:
        raise StackError(f"docker import failed: {imported.stderr.strip()}")
    say(f"docker: imported {BASE_IMAGE} ({image_size(BASE_IMAGE)})")


def stage_build_context() -> None:
    """The NiFi home, the processors NAR for the image's Python and MinIO, where the Dockerfiles expect them."""
    home = assemble_nifi(find_java())
    nar = build_processors_nar(IMAGE_PYTHON)
    minio = minio_binary()
    shutil.rmtree(DOCKER_BUILD, ignore_errors=True)
    (DOCKER_BUILD / "extensions").mkdir(parents=True)
    shutil.copytree(home, DOCKER_BUILD / "nifi-home", copy_function=_link_or_copy)
    _link_or_copy(nar, DOCKER_BUILD / "extensions" / nar.name)
    _link_or_copy(minio, DOCKER_BUILD / "minio")
    shutil.copytree(startup_libraries(), DOCKER_BUILD / "python-libs", copy_function=_link_or_copy)
    say(f"docker: staged NiFi ({home.name}), {nar.name}, MinIO and the start-up libraries in "
        f"{DOCKER_BUILD.relative_to(REPO)}")


def startup_libraries() -> Path:
    """STARTUP_PACKAGES at pyproject.toml's pins, installed for the image's Python; cached by pins."""
    dependencies = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    pins = sorted(pin for pin in dependencies if pin.split("==")[0] in STARTUP_PACKAGES)
    key = hashlib.sha256("\n".join([IMAGE_PYTHON, *pins]).encode()).hexdigest()[:12]
    target = CACHE / "docker" / f"startup-libraries-py{IMAGE_PYTHON}-{key}"
    if (target / ".complete").exists():
        return target
    shutil.rmtree(target, ignore_errors=True)
    code, output = run_step(
        f"docker: installing {', '.join(pins)} for the image's Python {IMAGE_PYTHON} (first time only)",
        [sys.executable, "-m", "pip", "install", "--only-binary=:all:", "--no-compile", "--progress-bar", "off",
         "--target", str(target), "--python-version", IMAGE_PYTHON, "--implementation", "cp",
         "--platform", "manylinux_2_28_x86_64", "--platform", "manylinux2014_x86_64", *pins],
        shows=PIP_PROGRESS.search)
    if code != 0:
        raise StackError(f"docker: {', '.join(pins)} could not be installed for Python {IMAGE_PYTHON}:\n{output[-3000:]}")
    (target / ".complete").write_text(IMAGE_PYTHON)
    return target


def _link_or_copy(source, target) -> None:
    """A hard link where the cache and the checkout share a file system (instant, no space), else a copy."""
    try:
        os.link(source, target)
    except OSError:
        shutil.copy2(source, target)


def image_size(image: str) -> str:
    size = subprocess.run(["docker", "image", "inspect", "--format", "{{.Size}}", image], capture_output=True, text=True)
    return f"{int(size.stdout) / 1e6:.0f} MB" if size.returncode == 0 else "(not built)"


def _docker_succeeds(*args: str) -> bool:
    return subprocess.run(["docker", *args], capture_output=True).returncode == 0
