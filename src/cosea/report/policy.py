"""What an installation allows its reports to carry: the report policy.

Reports leave the installation, so what they hold is a policy decision, not a
command-line habit. The policy is a small YAML file, ``COSEA_HOME/report-policy.yaml``
(or the file named by ``COSEA_REPORT_POLICY``); every key is optional and the
defaults keep the least data:

.. code-block:: yaml

    include_media_files: false     # evidence packages carry hashes, not the files
    stix_observed_data: false      # STIX bundles carry no observed-data objects
    pseudonymise: [stix, signals]  # outputs whose account identifiers are pseudonyms
    reporter:                      # who reports (CyberTipline 'reporter'); never guessed
      company: Example Games Ltd
      first_name: Sam
      last_name: Reviewer
      email: trust-safety@example.org
      phone: "+1 555 0100"
      terms_of_service: https://example.org/terms
      legal_url: https://example.org/law-enforcement
    identity_name: Example Games Ltd   # the STIX identity reports are created by
    country: GB                        # default country for playbooks' reporting bodies

A command-line flag can make an output carry less than the policy allows, and can
ask for more only where the policy allows it (media files also need the service's
own ``allow_media_storage``).
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from cosea import settings
from cosea.errors import InputError

POLICY_ENV = "COSEA_REPORT_POLICY"
POLICY_FILE = "report-policy.yaml"
PSEUDONYMISABLE = ("evidence", "cybertip", "stix", "signals")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class Reporter(BaseModel):
    """The reporting company and person, as the CyberTipline's ``reporter`` wants them."""

    model_config = ConfigDict(extra="forbid")

    company: str | None = None
    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None
    terms_of_service: str | None = None
    legal_url: str | None = None

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.match(value):
            raise ValueError(f"{value!r} is not an email address")
        return value


class ReportPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    include_media_files: bool = False
    stix_observed_data: bool = False
    pseudonymise: list[Literal["evidence", "cybertip", "stix", "signals"]] = Field(
        default_factory=lambda: ["stix", "signals"]
    )
    reporter: Reporter = Field(default_factory=Reporter)
    identity_name: str | None = None
    country: str | None = None

    def pseudonymises(self, output: str) -> bool:
        return output in self.pseudonymise


def policy_path() -> Path:
    named = os.environ.get(POLICY_ENV)
    return Path(named) if named else settings.home() / POLICY_FILE


def load_policy(path: Path | str | None = None) -> ReportPolicy:
    """The installation's report policy; the defaults when no file exists."""
    source = Path(path) if path else policy_path()
    if not source.is_file():
        if path is not None:
            raise InputError(source, "no such report policy file")
        return ReportPolicy()
    try:
        data = yaml.safe_load(source.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        raise InputError(
            source, f"not valid YAML ({error})", line=mark.line + 1 if mark else None
        ) from None
    if not isinstance(data, dict):
        raise InputError(source, "the report policy must be a mapping of settings")
    try:
        return ReportPolicy.model_validate(data)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise InputError(source, f"{first['msg']}", entry=where) from None
