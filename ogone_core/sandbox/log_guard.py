"""A logging handler for test suites that catches secrets in log records.

    guard = LogGuard(secrets=["my-sha-out-passphrase", ...])
    guard.install()          # every logger at DEBUG, every record checked
    ... run the tests ...
    guard.uninstall()
    assert not guard.leaks, guard.report()

Each record is formatted once (message with its arguments, traceback, stack) and searched once for every
secret at the same time. A CVC is three or four digits, which amounts and ids are full of: it is looked for
only where a CVC would be written (``CVC=123``, ``'cvc': '123'``, ``"CVC": "123"``), whatever its value.
What a leak report shows is masked: it says where the secret was, never the secret.
"""
from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

# A passphrase or password a test gives as a literal: `sha_out="..."`, `API_PASSWORD = '...'`, `"pswd": "..."`
_SECRET_NAME = r"[A-Za-z_]*(?:sha_in|sha_out|passphrase|password|pswd)[A-Za-z_]*"
_SECRET_LITERAL = re.compile(
    rf"""(?:\b{_SECRET_NAME}\s*=|["']{_SECRET_NAME}["']\s*:)\s*(["'])([^"'\n]*)\1""", re.IGNORECASE)
# A CVC after its name, as a query string, a form, a repr or JSON writes it
CVC_IN_CONTEXT = r"""\bCVC['"]?\s*[:=]\s*['"]?(?P<cvc>\d{3,4})\b"""
MIN_SECRET_LENGTH = 8


def secrets_written_in(paths: Iterable[Path]) -> list[str]:
    """The passphrases and passwords test sources give as literals, long enough to be looked for.

    Shorter ones ("x", "wrong") are in any text: a test that needs its passphrase found uses a long one.
    """
    found = {match.group(2) for path in paths
             for match in _SECRET_LITERAL.finditer(Path(path).read_text(encoding="utf-8"))}
    return sorted(secret for secret in found if len(secret) >= MIN_SECRET_LENGTH)


@dataclass(frozen=True)
class Leak:
    logger: str
    level: str
    where: str
    text: str  # the formatted record, with every secret masked

    def __str__(self) -> str:
        return f"{self.where or 'outside any test'}: {self.logger} {self.level}: {self.text}"


class LogGuard(logging.Handler):
    """Sets the root logger (and every logger below it) to DEBUG and keeps the records that show a secret.

    ``ignore`` names loggers whose records are not checked, and whose level is left alone: a logger that is
    documented to write secrets at DEBUG (trytond.backend's SQL with its values) is kept above DEBUG by its
    deployment, not by its code.
    """

    def __init__(self, secrets: Iterable[str], ignore: Iterable[str] = ()) -> None:
        super().__init__(logging.DEBUG)
        distinct = sorted({secret for secret in secrets if secret}, key=len, reverse=True)
        short = [secret for secret in distinct if len(secret) < MIN_SECRET_LENGTH]
        if short:
            # Found innocently everywhere, a short one would make every report meaningless.
            raise ValueError(f"{len(short)} secret(s) shorter than {MIN_SECRET_LENGTH} characters")
        # Lower case, like the text searched: a passphrase written in capitals is still the passphrase.
        self._secrets = tuple(secret.lower() for secret in distinct)
        self._cvc = re.compile(CVC_IN_CONTEXT.replace("CVC", "cvc"))
        # For the report: every secret and CVC in any case
        self._pattern = re.compile("|".join([re.escape(secret) for secret in distinct] + [CVC_IN_CONTEXT]),
                                   re.IGNORECASE)
        self._ignore = tuple(ignore)
        self._saved_levels: dict[str, int] = {}
        self.leaks: list[Leak] = []
        self.where = ""  # what was running (a test's name), set by the suite
        self.setFormatter(logging.Formatter("%(message)s"))

    def _ignored(self, name: str) -> bool:
        return any(name == ignored or name.startswith(ignored + ".") for ignored in self._ignore)

    def filter(self, record: logging.LogRecord) -> bool:
        return not self._ignored(record.name)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = self.format(record)
        except Exception:
            self.handleError(record)
            return
        # One lower-casing, then substring searches in C: a regular expression of fifty alternatives tries
        # each of them at every position, seven times slower than formatting the record.
        lowered = text.lower()
        if (any(secret in lowered for secret in self._secrets)
                or ("cvc" in lowered and self._cvc.search(lowered))):
            self.leaks.append(Leak(record.name, record.levelname, self.where, self.mask(text)))

    def mask(self, text: str) -> str:
        def hidden(match: re.Match) -> str:
            if match.group("cvc"):
                start, end = match.span("cvc")
                return match.group(0)[:start - match.start()] + "***" + match.group(0)[end - match.start():]
            return f"<secret of {len(match.group(0))} characters>"
        return self._pattern.sub(hidden, text)

    def install(self) -> "LogGuard":
        root = logging.getLogger()
        self._saved_levels = {"": root.level}
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        for name, logger in list(logging.Logger.manager.loggerDict.items()):
            # Loggers given a level of their own earlier would hide their DEBUG records.
            if isinstance(logger, logging.Logger) and logger.level > logging.DEBUG and not self._ignored(name):
                self._saved_levels[name] = logger.level
                logger.setLevel(logging.NOTSET)
        for name in self._ignore:
            logger = logging.getLogger(name)
            self._saved_levels[name] = logger.level
            if logger.getEffectiveLevel() <= logging.DEBUG:
                logger.setLevel(logging.INFO)
        return self

    def uninstall(self) -> None:
        logging.getLogger().removeHandler(self)
        for name, level in self._saved_levels.items():
            logging.getLogger(name or None).setLevel(level)

    def report(self, limit: int = 10) -> str:
        """How many leaks each test's loggers had, then the first records, masked."""
        sources = Counter((leak.where or "outside any test", leak.logger, leak.level) for leak in self.leaks)
        lines = [f"{len(self.leaks)} log record(s) show a secret:"]
        lines += [f"  {count} x {where}: {logger} {level}" for (where, logger, level), count in sources.items()]
        lines += ["First records:"] + [f"  {leak}"[:2000] for leak in self.leaks[:limit]]
        return "\n".join(lines)
