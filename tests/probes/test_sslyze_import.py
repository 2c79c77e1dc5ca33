"""auditor.probes.sslyze_import: sslyze's JSON-output models are created unbuilt (pydantic's defer_build),
still work when used, and the deferral does not outlive sslyze's import."""

from __future__ import annotations

import json
import subprocess
import sys

CODE = r"""
import json, pydantic
import auditor.probes.tls  # the TLS probe's first import of sslyze goes through sslyze_import
from sslyze.json.json_output import SslyzeOutputAsJson
from sslyze.plugins.compression_plugin import CompressionScanResult, CompressionScanResultAsJson
from sslyze.plugins.certificate_info.json_output import CertificateInfoScanResultAsJson

deferred = [m.__pydantic_complete__ for m in (SslyzeOutputAsJson, CompressionScanResultAsJson,
                                              CertificateInfoScanResultAsJson)]
used = CompressionScanResultAsJson.model_validate(CompressionScanResult(supports_compression=True)).model_dump()

class After(pydantic.BaseModel):
    value: int

print(json.dumps({"deferred": deferred, "used": used, "built_after": After.__pydantic_complete__,
                  "base_config": dict(pydantic.BaseModel.model_config)}))
"""


def test_sslyze_json_models_are_deferred_and_still_usable() -> None:
    out = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, check=True, timeout=120)
    seen = json.loads(out.stdout)
    assert seen["deferred"] == [False, False, False]  # not built at import
    assert seen["used"] == {"supports_compression": True}  # built on first use, as pydantic documents
    assert seen["built_after"] is True  # models created after sslyze's import are built as usual
    assert seen["base_config"] == {}  # BaseModel's own configuration is restored


def test_without_sslyze_import_the_models_are_built() -> None:
    """The counter-test: importing sslyze directly builds its models (what the deferral saves)."""
    code = ("import json\nfrom sslyze.plugins.compression_plugin import CompressionScanResultAsJson as M\n"
            "print(json.dumps(M.__pydantic_complete__))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    assert json.loads(out.stdout) is True
