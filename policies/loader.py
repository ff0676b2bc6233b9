"""Loading a policy pack: the whole file checked, or an error naming file, line and problem.

A pack is never half-loaded: `load_policy` returns a complete, cross-checked policy or raises
PolicyError, and the caller keeps whatever policy it had before.
"""
from __future__ import annotations

import difflib
import functools
import hashlib
import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator, List, Mapping, Optional, Tuple, Type, cast

from pydantic import BaseModel, ValidationError
from pydantic.error_wrappers import ErrorWrapper, error_dict
from pydantic.errors import ExtraError, MissingError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from settings import Settings

from .schema import KNOWN_KEYS, Broken, Policy

log = logging.getLogger(__name__)

PACKAGE_DIR = Path(__file__).resolve().parent
DEFAULT_POLICY = PACKAGE_DIR / "esdc.yml"


@dataclass(frozen=True)
class Problem:
    line: Optional[int]  # 1-based; None when the file could not be read at all
    path: str
    message: str


class PolicyError(Exception):
    def __init__(self, file: str, problems: List[Problem]):
        self.file = file
        self.problems = problems
        super().__init__(self.report())

    def report(self) -> str:
        lines = []
        for problem in self.problems:
            where = f"{self.file}:{problem.line}" if problem.line else self.file
            what = f"{problem.path}: " if problem.path else ""
            lines.append(f"{where}: {what}{problem.message}")
        return "\n".join(lines)


@dataclass(frozen=True)
class LoadedPolicy:
    rules: Policy
    version: str  # sha256 of the file's bytes: what a stored request was judged by
    file: str
    content: str

    @property
    def short_version(self) -> str:
        return self.version[:12]


def policy_path(env: Optional[Mapping[str, str]] = None) -> Path:
    """The policy in force: MICROBUY_POLICY if set, else the ESDC pack (`env` instead of os.environ)."""
    return Settings.read("MICROBUY_POLICY", env) or DEFAULT_POLICY


def load_policy(path: os.PathLike | str | None = None) -> LoadedPolicy:
    file = Path(path) if path is not None else policy_path()
    try:
        raw = file.read_bytes()
    except OSError as exc:
        raise PolicyError(str(file), [Problem(None, "", f"cannot read the file: {exc.strerror}")]) from None
    return parse_policy(raw, str(file))


def parse_policy(raw: bytes, file: str) -> LoadedPolicy:
    """The policy in `raw`; the same bytes of the same file are parsed once per process (half a
    second of YAML each time: tests, the CLI and the processes load the same pack again and
    again). The result is shared, so its models refuse changes (schema.Strict)."""
    return _parse_policy(raw, file)


@functools.lru_cache(maxsize=16)
def _parse_policy(raw: bytes, file: str) -> LoadedPolicy:
    try:
        content = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise PolicyError(file, [Problem(None, "", f"not UTF-8 text (byte {exc.start})")]) from None
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(content)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        raise PolicyError(file, [Problem(line, "", f"not valid YAML: {exc.problem or exc.context}")]) from None
    except YAMLError as exc:
        raise PolicyError(file, [Problem(None, "", f"not valid YAML: {exc}")]) from None
    if not isinstance(data, CommentedMap):
        raise PolicyError(file, [Problem(1, "", "a policy pack is a mapping of sections (pack:, limits:, ...)")])
    try:
        rules = Policy.parse_obj(data)
    except ValidationError as exc:
        problems = [Problem(_line_of(data, loc), _dotted(loc), message) for loc, message in _problems(exc)]
        problems.sort(key=lambda p: (p.line or 0, p.path))
        raise PolicyError(file, problems) from None
    return LoadedPolicy(rules=rules, version=hashlib.sha256(raw).hexdigest(), file=file, content=content)


def _problems(exc: ValidationError) -> Iterator[Tuple[tuple, str]]:
    """Each problem with its location, unpacking cross-check problems into their own paths."""
    for loc, error in _walk(exc.raw_errors, ()):
        loc = tuple(part for part in loc if part != "__root__")
        if isinstance(error, Broken):
            for path, message in error.problems:
                yield loc + tuple(path), message
        elif isinstance(error, ExtraError):
            yield loc, f"unknown key '{loc[-1]}'{_did_you_mean(str(loc[-1]))}"
        elif isinstance(error, MissingError):
            yield loc, "missing: this key is required here"
        else:
            model = cast(Type[BaseModel], exc.model)  # the policy's models, never a pydantic dataclass
            yield loc, error_dict(error, model.__config__, loc)["msg"]


def _did_you_mean(key: str) -> str:
    close = difflib.get_close_matches(key, KNOWN_KEYS, n=1, cutoff=0.75)
    return f" (did you mean '{close[0]}'?)" if close else " (check the spelling against docs/policy-packs.md)"


def _walk(errors, loc: tuple):
    for error in errors:
        if isinstance(error, ErrorWrapper):
            here = loc + error.loc_tuple()
            if isinstance(error.exc, ValidationError):
                yield from _walk(error.exc.raw_errors, here)
            else:
                yield here, error.exc
        elif isinstance(error, list):
            yield from _walk(error, loc)


def _dotted(loc: tuple) -> str:
    return ".".join("(key)" if part == "__key__" else str(part) for part in loc)


def _line_of(data, loc: tuple) -> Optional[int]:
    """The 1-based line of the deepest part of `loc` that exists in the YAML."""
    node, line = data, 1
    for part in loc:
        if isinstance(node, CommentedMap) and part == "__key__":
            # pydantic does not say which key was bad: point at the first one that is not text.
            odd = [key for key in node if not isinstance(key, str)]
            return node.lc.key(odd[0])[0] + 1 if odd else line
        if isinstance(node, CommentedMap):
            key = part if part in node else _same_key(node, part)
            if key is None:
                break
            line = node.lc.key(key)[0] + 1
            node = node[key]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            break
    return line


def _same_key(node: CommentedMap, part) -> Optional[object]:
    # pydantic reports keys after coercion (the int 100 as "100"); find the YAML key it came from.
    for key in node:
        if str(key) == str(part):
            return key
    return None


class PolicyInForce:
    """The policy in force for a long-running process: the last valid version of the file.

    The file (MICROBUY_POLICY, or the path given) is read again when its path, modification time
    or size changes. An edit that does not pass `microbuy policy check` never replaces the policy
    in force: the problem is logged once per edit and the old rules stay. Thread-safe.

    Listeners hear of each outcome once per edit, outside the lock (they may do slow I/O):
    `on_change(old, new, stamp)` when a new version comes into force (old is None at the first
    load) and `on_refused(path, report, in_force, stamp)` when an edit is refused; `stamp` is
    (path, mtime_ns, size), the same in every process watching the same file.
    """

    def __init__(self, path: Optional[os.PathLike | str] = None):
        self._path = Path(path) if path else None
        self._lock = threading.Lock()
        self._stamp: Optional[tuple] = None
        self._policy: Optional[LoadedPolicy] = None
        self._on_change: List[Callable] = []
        self._on_refused: List[Callable] = []

    @property
    def path(self) -> Path:
        return self._path or policy_path()

    def listen(self, on_change: Optional[Callable] = None, on_refused: Optional[Callable] = None) -> None:
        if on_change:
            self._on_change.append(on_change)
        if on_refused:
            self._on_refused.append(on_refused)

    def get(self) -> LoadedPolicy:
        path = self.path
        try:
            stat = path.stat()
            stamp: Optional[tuple] = (str(path), stat.st_mtime_ns, stat.st_size)
        except OSError:
            stamp = None
        with self._lock:
            if self._policy is not None and stamp == self._stamp:
                return self._policy
            old = self._policy
            try:
                policy = load_policy(path)
            except (PolicyError, OSError) as exc:
                if old is None:
                    raise
                report = exc.report() if isinstance(exc, PolicyError) else str(exc)
                log.error("policy %s not reloaded, the rules in force stay (version %s):\n%s",
                          path, old.short_version, report)
                self._stamp = stamp  # say it once per edit, not on every turn
                heard: List[Tuple[Callable, Tuple[Any, ...]]] = [
                    (listener, (path, report, old, stamp)) for listener in self._on_refused]
                policy = old
            else:
                self._policy, self._stamp = policy, stamp
                heard = []
                if old is None or policy.version != old.version:
                    if old is not None:
                        log.info("policy %s reloaded: version %s -> %s", path, old.short_version,
                                 policy.short_version)
                    heard = [(listener, (old, policy, stamp)) for listener in self._on_change]
        for listener, args in heard:
            try:
                listener(*args)
            except Exception:  # a listener failing must not stop the policy being served
                log.exception("policy listener %r failed", listener)
        return policy

    __call__ = get
