"""The templates directory: the one home of Jinja2.

One file per template name × channel × language: `templates/{name}.{channel}.{language}.j2`
(e.g. `smb_dunning_1.email.de.j2`). Files starting with `_` are layouts the others extend.
Policy owners edit them, so they run in Jinja2's sandbox with undefined variables as errors.
The settings beside them (`templates/notices.yaml`): default language, letterhead, fallback order.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2.sandbox import SandboxedEnvironment

from engine.notices.locale import base_language, check_language
from engine.rules.yamlsrc import unreadable
from states.errors import ValidationFailed

CHANNELS = ("email", "sms", "letter", "phone", "portal")
# What a rendered template must start with, per channel: a `Subject:` line, then a blank line.
WITH_SUBJECT = frozenset({"email", "letter", "portal"})
_NAME = re.compile(r"^(?P<name>[a-z0-9_]+)\.(?P<channel>[a-z]+)\.(?P<language>[A-Za-z-]+)\.j2$")


@dataclass(frozen=True)
class Letterhead:
    company: str
    address: tuple[str, ...]
    email: str
    phone: str
    payment: tuple[str, ...]  # how to pay: bank details, lines as printed


@dataclass
class NoticeSettings:
    default_language: str
    letterhead: Letterhead
    fallback: tuple[str, ...]  # channels in the order a message falls back to
    fallback_template: str  # the template of a channel the named one was not written for


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line}: {self.message}"


@dataclass
class TemplateSet:
    directory: Path
    settings: NoticeSettings
    env: SandboxedEnvironment
    html_env: SandboxedEnvironment  # autoescaping, for the HTML layout of emails
    files: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (name, channel, lang) -> file

    def find(self, name: str, channel: str, language: str) -> str | None:
        """The file for the language (`fr-CA` → `fr`), else for the default language."""
        for lang in (language, base_language(language), self.settings.default_language):
            found = self.files.get((name, channel, lang))
            if found is not None:
                return found
        return None

    def resolve(self, name: str, channel: str, language: str) -> tuple[str, str] | None:
        """(template name, language) to render for `channel`: the named template, else the generic
        `fallback_template` (a message that fell back to a channel its template was not written for);
        the language is the file's (the default when the customer's has no template)."""
        for candidate in (name, self.settings.fallback_template):
            file = self.find(candidate, channel, language)
            if file is not None:
                return candidate, file.rsplit(".", 2)[1]
        return None

    def has(self, name: str, channel: str) -> bool:
        return (name, channel, self.settings.default_language) in self.files

    def render(self, file: str, context: Mapping[str, Any]) -> str:
        return _template(self.env, file).render(context)

    def render_html(self, file: str, context: Mapping[str, Any]) -> str:
        return _template(self.html_env, file).render(context)


def _template(env: SandboxedEnvironment, file: str) -> jinja2.Template:
    """A file changed after `o2c templates check` (a syntax error, a NUL) is refused as a typed error
    naming `FILE:LINE`, as the check would: nothing of the batch being rendered is written."""
    try:
        return env.get_template(file)
    except jinja2.TemplateSyntaxError as exc:
        raise ValidationFailed(
            f"{exc.filename or file}:{exc.lineno or 1}: syntax error: {exc.message}", "templates"
        ) from None


class _Files(jinja2.FileSystemLoader):
    """Template files that are UTF-8 text without NUL: a NUL would reach the stored message (which
    PostgreSQL refuses) and every mail, SMS and letter. Refused as a syntax error at its line, so
    `o2c templates check` reports `FILE:LINE` like any other."""

    def get_source(self, environment: jinja2.Environment, template: str) -> tuple[str, str, Callable[[], bool]]:
        try:
            source, filename, uptodate = super().get_source(environment, template)
        except UnicodeDecodeError as exc:
            problem = f"not UTF-8 text ({exc.reason} at byte {exc.start})"
            raise jinja2.TemplateSyntaxError(problem, 1, template) from None
        if "\x00" in source:
            line = source.count("\n", 0, source.index("\x00")) + 1
            raise jinja2.TemplateSyntaxError("a NUL (U+0000) character is not allowed", line, template, filename)
        return source, filename, uptodate


def environment(directory: Path, autoescape: bool = False) -> SandboxedEnvironment:
    return SandboxedEnvironment(
        loader=_Files(str(directory)),
        undefined=jinja2.StrictUndefined,
        autoescape=autoescape,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        auto_reload=False,  # a changed directory is loaded anew (`load`), not stat'ed per message
    )


def load(directory: Path) -> TemplateSet:
    """The templates of `directory`; raises VALIDATION_FAILED naming the settings problem."""
    settings = _settings(directory / "notices.yaml")
    found = TemplateSet(directory, settings, environment(directory), environment(directory, autoescape=True))
    for path in sorted(directory.glob("*.j2")):
        m = _NAME.match(path.name)
        if m and not path.name.startswith("_"):
            found.files[(m["name"], m["channel"], m["language"])] = path.name
    return found


def _settings(path: Path) -> NoticeSettings:
    if not path.exists():
        raise ValidationFailed(f"{path}:1: missing: the templates need their settings file", "templates")
    text = path.read_text(encoding="utf-8")
    try:
        raw = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        refused = unreadable(exc, text)
        if refused is not None:
            raise ValidationFailed(f"{path}:{refused[0]}: {refused[2]}", "templates") from None
        line = getattr(getattr(exc, "problem_mark", None), "line", 0) + 1
        raise ValidationFailed(f"{path}:{line}: not YAML: {exc}", "templates") from None
    try:
        head = raw["letterhead"]
        letterhead = Letterhead(
            str(head["company"]),
            tuple(str(x) for x in head["address"]),
            str(head["email"]),
            str(head["phone"]),
            tuple(str(x) for x in head["payment"]),
        )
        fallback = tuple(str(c) for c in raw.get("fallback", ["email", "letter", "sms"]))
        language = check_language(str(raw["default_language"]))
    except (KeyError, TypeError) as exc:
        raise ValidationFailed(f"{path}:1: missing or malformed setting {exc}", "templates") from None
    except ValidationFailed as exc:
        raise ValidationFailed(f"{path}:1: {exc.message}", "templates") from None
    unknown = [c for c in fallback if c not in CHANNELS]
    if unknown:
        raise ValidationFailed(f"{path}:1: unknown channel(s) in fallback: {', '.join(unknown)}", "templates")
    return NoticeSettings(language, letterhead, fallback, str(raw.get("fallback_template", "reminder")))


def error_line(exc: BaseException, file: str) -> int:
    """The template line a render error happened on (Jinja2 rewrites tracebacks to the template)."""
    if isinstance(exc, jinja2.TemplateSyntaxError) and exc.lineno:
        return int(exc.lineno)
    line, tb = 1, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename.endswith(file):
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


Sample = Callable[[TemplateSet, str, str], Mapping[str, Any]]  # (templates, channel, language) -> context


def check(directory: Path, sample: Sample, needed: Iterable[tuple[str, str]] = ()) -> list[Problem]:
    """Every template parses, is named `name.channel.language.j2`, renders the sample context without
    an undefined variable, and starts with `Subject:` where its channel needs one; every (name,
    channel) in `needed` exists in the default language."""
    problems: list[Problem] = []
    try:
        templates = load(directory)
    except ValidationFailed as exc:
        file, _, rest = exc.message.partition(":")
        line, _, message = rest.partition(":")
        return [Problem(file, int(line) if line.isdigit() else 1, message.strip())]
    for path in sorted(directory.glob("*.j2")):
        problems.extend(replace(p, file=str(directory / p.file)) for p in _check_file(templates, path, sample))
    generic = [(templates.settings.fallback_template, ch) for ch in templates.settings.fallback]
    for name, channel in sorted({*needed, *generic}):
        if not templates.has(name, channel):
            lang = templates.settings.default_language
            missing = str(directory / f"{name}.{channel}.{lang}.j2")
            problems.append(Problem(missing, 1, "missing: a strategy sends this template"))
    return problems


def _check_file(templates: TemplateSet, path: Path, sample: Sample) -> list[Problem]:
    name = path.name
    m = _NAME.match(name)
    if not name.startswith("_"):
        if m is None:
            return [Problem(name, 1, "name it template.channel.language.j2, e.g. pre_due.email.en.j2")]
        if m["channel"] not in CHANNELS:
            return [Problem(name, 1, f"unknown channel '{m['channel']}'; one of {', '.join(CHANNELS)}")]
        try:
            check_language(m["language"])
        except ValidationFailed as exc:
            return [Problem(name, 1, exc.message)]
    try:
        template = templates.env.get_template(name)
    except jinja2.TemplateSyntaxError as exc:
        return [Problem(name, int(exc.lineno or 1), f"syntax error: {exc.message}")]
    if m is None or name.startswith("_"):
        return []
    try:
        text = template.render(sample(templates, m["channel"], m["language"]))
    except jinja2.TemplateError as exc:
        return [Problem(name, error_line(exc, name), f"{type(exc).__name__}: {exc}")]
    except Exception as exc:  # a sandbox refusal or a bad filter argument
        return [Problem(name, error_line(exc, name), f"{type(exc).__name__}: {exc}")]
    if m["channel"] in WITH_SUBJECT and not text.lstrip().startswith("Subject:"):
        return [Problem(name, 1, "an email, letter or portal message starts with a 'Subject: …' line")]
    return []


def print_problems(problems: list[Problem], out: Any = None) -> int:
    for p in problems:
        print(p, file=out or sys.stdout)
    return 1 if problems else 0
