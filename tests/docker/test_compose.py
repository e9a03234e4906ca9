"""The deployment in docker/, checked without a Docker engine: the compose file parses
and every variable it reads is in .env.example; the services, queues and Airflow
settings are the ones the workers need; the Dockerfile installs only what
constraints.txt pins, copies files that exist and reach the build context, runs as a
user other than root and pins its base images. When a Docker client with the compose
plugin is installed, ``docker compose config`` must accept the file too."""

from __future__ import annotations

import configparser
import fnmatch
import re
import shlex
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
DOCKER = ROOT / "docker"
COMPOSE = DOCKER / "compose.yaml"
ENV_EXAMPLE = DOCKER / ".env.example"
DOCKERFILE = DOCKER / "Dockerfile"
IMAGE_ROOT = "/opt/ecqm"  # where the Dockerfile puts the repository tree

AIRFLOW_SERVICES = {
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
    "worker-crawl",
    "worker-compute",
}
SERVICES = AIRFLOW_SERVICES | {"postgres", "redis"}
WORKER_QUEUES = {"worker-crawl": "crawl", "worker-compute": "compute"}
# Secrets: never a literal in compose.yaml, never a value in .env.example, and compose
# refuses to start without them (${VAR:?message}).
REQUIRED_SECRETS = {
    "POSTGRES_PASSWORD",
    "AIRFLOW_DB_PASSWORD",
    "ECQM_DB_PASSWORD",
    "AIRFLOW_FERNET_KEY",
    "AIRFLOW_JWT_SECRET",
    "AIRFLOW_API_SECRET_KEY",
    "AIRFLOW_ADMIN_PASSWORD",
    "ECQM_PII_SALT",
}
SECRET_NAME = re.compile(r"PASSWORD|SECRET|FERNET|SALT")


# ----------------------------------------------------------- compose interpolation

_REFERENCE = re.compile(r"\$(?:(?P<dollar>\$)|\{(?P<braced>[^}]*)\}|(?P<plain>[A-Za-z_]\w*))")
_BRACED = re.compile(r"(?P<name>[A-Za-z_]\w*)(?:(?P<op>:-|-|:\?|\?|:\+|\+)(?P<arg>.*))?", re.S)


class Unset(Exception):
    """A ${VAR:?message} whose variable is empty or unset."""


def _substitute(value: str, env: dict[str, str], names: set[str]) -> str:
    """``value`` with compose's ``$`` references replaced (names used go into ``names``)."""

    def one(m: re.Match[str]) -> str:
        if m["dollar"]:
            return "$"
        if m["plain"]:
            names.add(m["plain"])
            return env.get(m["plain"], "")
        ref = _BRACED.fullmatch(m["braced"])
        assert ref and "${" not in m["braced"], f"cannot read ${{{m['braced']}}}"
        name, op, arg = ref["name"], ref["op"], ref["arg"] or ""
        names.add(name)
        given = env.get(name)
        empty = not given
        if op in (":-", "-"):
            return arg if (empty if op == ":-" else given is None) else given
        if op in (":?", "?"):
            if empty if op == ":?" else given is None:
                raise Unset(f"{name}: {arg}")
            return given
        if op in (":+", "+"):
            return arg if (not empty if op == ":+" else given is not None) else ""
        return given or ""

    return _REFERENCE.sub(one, value)


def interpolate(node, env: dict[str, str], names: set[str] | None = None):
    """Every string value of a parsed compose file, interpolated as compose does."""
    names = set() if names is None else names
    if isinstance(node, dict):
        return {k: interpolate(v, env, names) for k, v in node.items()}
    if isinstance(node, list):
        return [interpolate(v, env, names) for v in node]
    if isinstance(node, str):
        return _substitute(node, env, names)
    return node


def read_env_file(path: Path) -> dict[str, str]:
    env = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        name, sep, value = line.partition("=")
        assert sep and re.fullmatch(r"[A-Z_][A-Z0-9_]*", name), f"{path.name}:{number}: {line!r}"
        assert name not in env, f"{path.name}:{number}: {name} given twice"
        env[name] = value
    return env


@pytest.fixture(scope="module")
def raw() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def example() -> dict[str, str]:
    return read_env_file(ENV_EXAMPLE)


@pytest.fixture(scope="module")
def filled(example) -> dict[str, str]:
    """The .env.example with a made-up value for each secret, as an operator fills it."""
    return {k: (v or f"test-{k.lower().replace('_', '-')}") for k, v in example.items()}


@pytest.fixture(scope="module")
def config(raw, filled) -> dict:
    return interpolate(raw, filled)


def _environment(service: dict) -> dict[str, str]:
    env = service.get("environment") or {}
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {k: str(v) for k, v in env.items()}


def _command(service: dict) -> list[str]:
    command = service.get("command") or []
    return shlex.split(command) if isinstance(command, str) else [str(c) for c in command]


# ------------------------------------------------------------------- the compose file


def test_compose_parses_and_has_every_service(raw, config):
    assert raw["name"] == "ecqm"
    assert SERVICES <= set(config["services"]), SERVICES - set(config["services"])


def test_every_variable_compose_reads_is_in_env_example(raw, example):
    used: set[str] = set()
    interpolate(raw, {k: v or "x" for k, v in example.items()}, used)
    assert used - set(example) == set(), "add these to docker/.env.example"
    assert set(example) - used == set(), "docker/.env.example lists variables compose never reads"


def test_secrets_come_only_from_the_env_file(raw, example, filled):
    text = COMPOSE.read_text(encoding="utf-8")
    for name in REQUIRED_SECRETS:
        assert re.search(rf"\$\{{{name}:\?[^}}]+\}}", text), f"{name}: use ${{{name}:?message}}"
        assert example[name] == "", f".env.example must not hold a value for {name}"
    for name, value in example.items():
        if SECRET_NAME.search(name):
            assert value == "", f".env.example must not hold a value for {name}"
    for service_name, service in raw["services"].items():
        for key, value in _environment(service).items():
            if SECRET_NAME.search(key):
                assert "${" in value, f"{service_name}: {key} is a literal; take it from .env"
    with pytest.raises(Unset, match="AIRFLOW_FERNET_KEY"):
        interpolate(raw, {k: v for k, v in filled.items() if k != "AIRFLOW_FERNET_KEY"})


def test_images_are_pinned(config):
    pinned = {}
    for name, service in config["services"].items():
        image = service["image"]
        repository, _, tag = image.rpartition(":")
        assert repository and tag and tag != "latest", f"{name}: pin a version, not {image!r}"
        assert re.match(r"\d+\.\d+", tag), f"{name}: {image!r} has no version in its tag"
        pinned[name] = image
    assert re.fullmatch(r"postgres:15\.\d+(-bookworm)?", pinned["postgres"])
    assert re.fullmatch(r"redis:7\.\d+\.\d+(-bookworm)?", pinned["redis"])
    ecqm_images = {pinned[s] for s in AIRFLOW_SERVICES}
    assert len(ecqm_images) == 1, f"every Airflow service runs one image: {ecqm_images}"
    for name in AIRFLOW_SERVICES:
        build = config["services"][name]["build"]
        assert (DOCKER / build["context"] / build["dockerfile"]).resolve() == DOCKERFILE


def test_airflow_runs_celery_with_postgresql_and_redis(config):
    envs = {name: _environment(config["services"][name]) for name in AIRFLOW_SERVICES}
    for name, env in envs.items():
        assert env["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor", name
        assert env["AIRFLOW__CELERY__BROKER_URL"] == "redis://redis:6379/0", name
        assert env["AIRFLOW__CELERY__RESULT_BACKEND"].startswith("db+postgresql"), name
        assert "@postgres:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"], name
        assert env["ECQM_WAREHOUSE_URL"].endswith("@postgres:5432/ecqm"), name
        # psycopg 3 is the PostgreSQL driver installed; psycopg2 and asyncpg are not.
        for key in (
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN_ASYNC",
        ):
            assert env[key].startswith("postgresql+psycopg://"), (name, key)
    # One set of secrets for all: a token signed by the scheduler is checked by the api-server.
    for key in (
        "AIRFLOW__API_AUTH__JWT_SECRET",
        "AIRFLOW__CORE__FERNET_KEY",
        "AIRFLOW__API__SECRET_KEY",
        "ECQM_PII_SALT",
        "AIRFLOW__CORE__EXECUTION_API_SERVER_URL",
    ):
        assert len({env[key] for env in envs.values()}) == 1, key


def test_workers_reach_the_execution_api_on_the_api_server(config):
    api = config["services"]["airflow-apiserver"]
    url = _environment(api)["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"]
    m = re.fullmatch(r"http://(?P<host>[\w-]+):(?P<port>\d+)/execution/", url)
    assert m and m["host"] == "airflow-apiserver", url
    published = {p.rsplit(":", 1)[-1] for p in api["ports"]}
    assert m["port"] in published, f"the api-server listens on {published}, not {m['port']}"
    assert _command(api)[-1].endswith("api-server.sh")
    script = (DOCKER / "api-server.sh").read_text(encoding="utf-8")
    assert "exec airflow api-server" in script


def test_every_airflow_setting_exists_in_the_installed_airflow(config):
    import airflow
    from airflow.providers.celery.get_provider_info import get_provider_info

    known = yaml.safe_load(
        (Path(airflow.__file__).parent / "config_templates" / "config.yml").read_text()
    )
    sections = {s: set(v["options"]) for s, v in known.items()}
    for section, value in get_provider_info()["config"].items():
        sections.setdefault(section, set()).update(value["options"])
    unknown = set()
    for service in config["services"].values():
        for key in _environment(service):
            if key.startswith("AIRFLOW__"):
                section, _, option = key[len("AIRFLOW__") :].lower().partition("__")
                if option not in sections.get(section, set()):
                    unknown.add(key)
    assert not unknown, f"not settings of Airflow {airflow.__version__}: {sorted(unknown)}"


def test_the_workers_consume_the_crawl_and_compute_queues(config):
    env = _environment(config["services"]["worker-compute"])
    for name, queue in WORKER_QUEUES.items():
        command = _command(config["services"][name])
        assert command[:3] == ["airflow", "celery", "worker"], command
        queues = command[command.index("--queues") + 1].split(",")
        assert queues == [queue], (name, queues)
    assert env["AIRFLOW__OPERATORS__DEFAULT_QUEUE"] == WORKER_QUEUES["worker-compute"]
    assert env["ECQM_CRAWL_QUEUE"] == WORKER_QUEUES["worker-crawl"]
    # The crawl DAGs read the same variable when they are parsed (dags/crawl.py).
    assert "ECQM_CRAWL_QUEUE" in (ROOT / "dags" / "crawl.py").read_text(encoding="utf-8")


def test_services_are_healthchecked_restarted_and_ordered(config):
    services = config["services"]
    for name, service in services.items():
        if name == "airflow-init":
            assert service["restart"] == "no"
            assert set(service["depends_on"]) == {"postgres", "redis"}
            continue
        assert service["restart"] == "unless-stopped", name
        assert service["healthcheck"]["test"], name
    for name in AIRFLOW_SERVICES - {"airflow-init"}:
        after = services[name]["depends_on"]
        assert after["airflow-init"]["condition"] == "service_completed_successfully", name
        assert after["postgres"]["condition"] == "service_healthy", name
    init = (DOCKER / "init.sh").read_text(encoding="utf-8")
    for step in (
        "airflow db migrate",
        "ecqm warehouse upgrade",
        "ecqm warehouse load-reference",
        "ecqm warehouse grant-bi",
    ):
        assert step in init, step


def test_ecqm_home_is_on_named_volumes_shared_by_the_workers(config):
    services = config["services"]
    home = _environment(services["worker-compute"])["ECQM_HOME"]
    assert home == _dockerfile_env()["ECQM_HOME"]
    for name in ("worker-crawl", "worker-compute", "airflow-init"):
        mounts = {}
        for volume in services[name]["volumes"]:
            source, target = volume.split(":")[:2]
            mounts[target] = source
        for part in ("", "/landing", "/evidence", "/inbox", "/outbox"):
            assert home + part in mounts, f"{name}: mount a volume at {home}{part}"
            assert mounts[home + part] in config["volumes"], f"{name}: {home}{part} is no volume"
        assert "/opt/airflow/logs" in mounts, name
    # Bind mounts (PostgreSQL's init script) name files that exist.
    for service in services.values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DOCKER / source).is_file(), source


def test_scripts_the_services_run_are_in_the_image(config):
    copied = _copied_sources()
    for name, service in config["services"].items():
        for word in _command(service):
            if word.startswith(IMAGE_ROOT + "/"):
                relative = word[len(IMAGE_ROOT) + 1 :]
                assert (ROOT / relative).is_file(), f"{name}: {relative} does not exist"
                assert any(relative == c or relative.startswith(c + "/") for c in copied), (
                    f"{name}: the Dockerfile does not copy {relative}"
                )
    dags = _environment(config["services"]["airflow-dag-processor"])["AIRFLOW__CORE__DAGS_FOLDER"]
    assert dags == _dockerfile_env()["AIRFLOW__CORE__DAGS_FOLDER"] == f"{IMAGE_ROOT}/dags"


# --------------------------------------------------------------------- the Dockerfile


def _instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    out, current = [], ""
    for line in DOCKERFILE.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not current and (not stripped or stripped.startswith("#")):
            continue
        if current and stripped.startswith("#"):
            continue
        current += " " + stripped.rstrip("\\").strip() if current else stripped.rstrip("\\")
        if not stripped.endswith("\\"):
            word, _, rest = current.strip().partition(" ")
            out.append((word.upper(), rest.strip()))
            current = ""
    return out


def _dockerfile_env() -> dict[str, str]:
    env = {}
    for word, rest in _instructions():
        if word == "ENV":
            for item in shlex.split(rest):
                key, _, value = item.partition("=")
                env[key] = value
    return env


def _copied_sources() -> list[str]:
    """The build-context paths that COPY instructions read (not those from stages)."""
    sources = []
    for word, rest in _instructions():
        if word == "COPY":
            parts = shlex.split(rest)
            if any(p.startswith("--from") for p in parts):
                continue
            sources += [p.rstrip("/") for p in parts if not p.startswith("--")][:-1]
    return sources


def _constraints() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, sep, version = line.partition("==")
            assert sep, f"constraints.txt: {line!r} is not pinned with =="
            pins[canonicalize_name(name)] = version.strip()
    return pins


def test_the_base_image_is_python_311_slim_bookworm_and_pinned():
    args, stages = {}, set()
    for word, rest in _instructions():
        if word == "ARG" and "=" in rest:
            key, _, value = rest.partition("=")
            args[key] = value
        if word == "FROM":
            parts = rest.split()
            image = re.sub(r"\$\{(\w+)\}", lambda m: args[m[1]], parts[0])
            if image not in stages:
                assert image == "python:3.11-slim-bookworm", image
            if len(parts) == 3 and parts[1].upper() == "AS":
                stages.add(parts[2])
    assert {"build", "runtime"} <= stages


def test_every_python_package_is_installed_under_constraints_txt():
    pins = _constraints()
    installs = 0
    for word, rest in _instructions():
        if word != "RUN":
            continue
        for command in re.split(r"&&|;|\|\|", rest):
            words = shlex.split(command)
            if "pip" not in words or "install" not in words:
                continue
            installs += 1
            args = words[words.index("install") + 1 :]
            assert "--constraint" in args and args[args.index("--constraint") + 1] in (
                "constraints.txt",
                f"{IMAGE_ROOT}/constraints.txt",
            ), command
            assert "-r" not in args and "--requirement" not in args, command
            targets = [a for a in args if not a.startswith("-") and a != "constraints.txt"]
            for target in targets:
                if target == "." or target.startswith("/"):
                    continue  # the project (its dependencies are checked below)
                name = canonicalize_name(Requirement(target).name)
                assert name in pins, f"{target} is installed but not pinned in constraints.txt"
    assert installs >= 2
    # The project's own dependencies: each pinned, at a version its requirement accepts.
    cfg = configparser.ConfigParser()
    cfg.read(ROOT / "setup.cfg", encoding="utf-8")
    for line in cfg["options"]["install_requires"].strip().splitlines():
        requirement = Requirement(line.strip())
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{requirement} is not pinned in constraints.txt"
        assert requirement.specifier.contains(pins[name], prereleases=True), (
            requirement,
            pins[name],
        )
        for extra in requirement.extras:  # psycopg[binary] → psycopg-binary
            assert canonicalize_name(f"{requirement.name}-{extra}") in pins, requirement
    # The settings of compose.yaml are checked against the installed Airflow: the one pinned.
    from importlib.metadata import version

    for dist in ("apache-airflow", "apache-airflow-providers-celery"):
        assert version(dist) == pins[dist], (
            f"{dist}: installed {version(dist)}, pinned {pins[dist]}"
        )


def _match(pattern: list[str], path: list[str]) -> bool:
    """Docker's .dockerignore matching, segment by segment (``**``: any number)."""
    if not pattern:
        return not path
    if pattern[0] == "**":
        return any(_match(pattern[1:], path[i:]) for i in range(len(path) + 1))
    return bool(path) and fnmatch.fnmatchcase(path[0], pattern[0]) and _match(pattern[1:], path[1:])


def _dockerignored(path: str, patterns: list[str]) -> bool:
    """Whether .dockerignore keeps ``path`` out of the context (a folder takes its files)."""
    parts, ignored = path.split("/"), False
    for pattern in patterns:
        negate = pattern.startswith("!")
        segments = pattern.lstrip("!").strip("/").split("/")
        if any(_match(segments, parts[:i]) for i in range(1, len(parts) + 1)):
            ignored = not negate
    return ignored


def _dockerignore() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    return [x.strip() for x in lines if x.strip() and not x.strip().startswith("#")]


def test_copy_sources_exist_and_reach_the_build_context():
    patterns = _dockerignore()
    sources = _copied_sources()
    assert {"constraints.txt", "setup.cfg", "dags", "sql", "ecqm"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), f"COPY {source}: no such file in the repository"
        assert not _dockerignored(source, patterns), f"COPY {source}: .dockerignore leaves it out"


def test_dockerignore_leaves_out_the_local_environment_and_secrets():
    patterns = _dockerignore()
    for path in (".venv", "var", "build", ".git", ".pytest_cache", ".ruff_cache", "docker/.env"):
        assert _dockerignored(path, patterns), path
    assert _dockerignored("ecqm/warehouse/__pycache__", patterns)
    assert not _dockerignored("docker/.env.example", patterns)


def test_the_image_runs_as_a_user_other_than_root():
    users = [rest for word, rest in _instructions() if word == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")


def test_system_packages_are_installed_or_left_out_on_purpose():
    installed = " ".join(rest for word, rest in _instructions() if word == "RUN")
    readme = (DOCKER / "README.md").read_text(encoding="utf-8")
    listed = ROOT / "scripts" / "system-packages.txt"
    for line in listed.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if len(fields) >= 2:
            package = fields[1]
            assert re.search(rf"\b{re.escape(package)}\b", installed) or package in readme, (
                f"{package} (scripts/system-packages.txt): install it in docker/Dockerfile or "
                "say in docker/README.md why the image does without it"
            )


# ------------------------------------------------------------- docker compose itself


def _compose_available() -> bool:
    docker = shutil.which("docker")
    if not docker:
        return False
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, timeout=30)
    return probe.returncode == 0


@pytest.mark.skipif(not _compose_available(), reason="no docker compose plugin installed")
def test_docker_compose_accepts_the_file(filled, tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("".join(f"{k}={v}\n" for k, v in filled.items()), encoding="utf-8")
    result = subprocess.run(
        ["docker", "compose", "--env-file", str(env_file), "-f", str(COMPOSE), "config", "--quiet"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
