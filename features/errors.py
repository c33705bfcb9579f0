"""Root of the error hierarchy: everything a user can fix derives from here.

The CLI maps :class:`ClusterAssignError` subclasses to exit codes in one place
(``scenarios.cli``); library users catch them by type. Messages are rendered in
the current language (:mod:`features.i18n`) when the error is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from features.i18n import get_language, register, tr

register(
    {
        "problem.where": {
            "vi": "{file}, dòng {row}, cột '{column}'",
            "en": "{file}, row {row}, column '{column}'",
        },
        "problem.where_file": {"vi": "{file}", "en": "{file}"},
        "problem.where_column": {
            "vi": "{file}, cột '{column}'",
            "en": "{file}, column '{column}'",
        },
        "problem.where_row": {"vi": "{file}, dòng {row}", "en": "{file}, row {row}"},
        "problem.value": {"vi": "giá trị {value!r}", "en": "value {value!r}"},
        "problems.header": {
            "vi": "{file}: phát hiện {n} lỗi; chưa có gì được tính toán.",
            "en": "{file}: {n} problem(s) found; nothing was computed.",
        },
        "problems.more": {"vi": "... và {n} lỗi khác", "en": "... and {n} more"},
    }
)

#: At most this many problems are listed in one message; the rest are counted.
MAX_LISTED_PROBLEMS = 30


class ClusterAssignError(Exception):
    """A problem the user can fix (bad file, scenario, or rules)."""

    exit_code: int = 1


@dataclass(frozen=True, slots=True)
class Problem:
    """One defect of an input file, located the way the user sees the file.

    ``row`` is the row number Excel shows (header = row 1), ``column`` the
    header text as written in the file. ``message`` says what is wrong and
    ``hint`` what to do; both are already rendered in the current language.
    """

    file: str
    message: str
    row: int | None = None
    column: str | None = None
    value: object = None
    hint: str = ""
    severity: str = "error"  # or "warning"

    def where(self) -> str:
        if self.row is not None and self.column is not None:
            return tr("problem.where", file=self.file, row=self.row, column=self.column)
        if self.row is not None:
            return tr("problem.where_row", file=self.file, row=self.row)
        if self.column is not None:
            return tr("problem.where_column", file=self.file, column=self.column)
        return tr("problem.where_file", file=self.file)

    def render(self) -> str:
        text = f"{self.where()}: {self.message}"
        if self.value is not None:
            text += f" ({tr('problem.value', value=self.value)})"
        if self.hint:
            text += f" — {self.hint}"
        return text


class InputError(ClusterAssignError):
    """The unit table or adjacency file has one or more defects.

    Carries every :class:`Problem` found, so a planner fixes the file once,
    not once per run.
    """

    def __init__(self, problems: list[Problem] | str, file: str = "") -> None:
        if isinstance(problems, str):
            problems = [Problem(file=file, message=problems)]
        self.problems: list[Problem] = [p for p in problems if p.severity == "error"]
        self.warnings: list[Problem] = [p for p in problems if p.severity != "error"]
        self.file = file or (self.problems[0].file if self.problems else "")
        self.lang = get_language()
        super().__init__(self._render())

    def _render(self) -> str:
        if len(self.problems) == 1:
            return self.problems[0].render()
        lines = [tr("problems.header", file=self.file, n=len(self.problems))]
        for problem in self.problems[:MAX_LISTED_PROBLEMS]:
            lines.append(f"  - {problem.render()}")
        if len(self.problems) > MAX_LISTED_PROBLEMS:
            lines.append("  " + tr("problems.more", n=len(self.problems) - MAX_LISTED_PROBLEMS))
        return "\n".join(lines)


@dataclass
class Report:
    """Problems gathered while reading a file (collect, then raise)."""

    problems: list[Problem] = field(default_factory=list)

    def add(self, problem: Problem) -> None:
        self.problems.append(problem)

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def raise_if_errors(self, file: str) -> None:
        if self.errors:
            raise InputError(self.problems, file=file)
