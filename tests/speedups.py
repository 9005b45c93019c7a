"""Test-run speed-ups that change no behaviour: what every test would parse anew is
parsed once per process.

* botocore's data loader: each ``boto3.session.Session`` makes a loader of its own and
  parses the service models (``service-2.json``, ``endpoints.json``...) again; here all
  sessions share one loader per search path, as all clients of one session already do.
* moto's AWS managed policies (a 4.7 MB JSON text): its Identity Center backend parses
  them at the first ``AttachManagedPolicyToPermissionSet`` of each ``mock_aws``; here
  once per process (moto only reads them).

:func:`install` is called by ``tests/conftest.py`` once per test process.
"""

from __future__ import annotations

import json
from typing import Any

import botocore.loaders
import botocore.session


class _UniquePaths(list):
    """A loader's search paths: each ``boto3.session.Session`` appends boto3's own data
    path to its loader; a shared loader keeps one copy."""

    def append(self, path: str) -> None:
        if path not in self:
            super().append(path)


_LOADERS: dict[str | None, botocore.loaders.Loader] = {}
_MANAGED_POLICIES: dict[str, Any] = {}


def _shared_loader(search_path_string: str | None = None) -> botocore.loaders.Loader:
    loader = _LOADERS.get(search_path_string)
    if loader is None:
        loader = botocore.loaders.create_loader(search_path_string)
        loader._search_paths = _UniquePaths(loader.search_paths)
        _LOADERS[search_path_string] = loader
    return loader


def _share_moto_managed_policies() -> None:
    from moto.iam.aws_managed_policies import aws_managed_policies_data
    from moto.ssoadmin.models import SSOAdminBackend

    find = SSOAdminBackend._find_managed_policy

    def find_parsed_once(self: SSOAdminBackend, managed_policy_arn: str) -> Any:
        if self.aws_managed_policies is None:
            if not _MANAGED_POLICIES:
                _MANAGED_POLICIES.update(json.loads(aws_managed_policies_data))
            self.aws_managed_policies = _MANAGED_POLICIES
        return find(self, managed_policy_arn)

    SSOAdminBackend._find_managed_policy = find_parsed_once  # type: ignore[method-assign]


def install() -> None:
    """Patch botocore and moto as the module docstring says (idempotent)."""
    if botocore.session.create_loader is not _shared_loader:
        botocore.session.create_loader = _shared_loader  # type: ignore[assignment]
        _share_moto_managed_policies()
