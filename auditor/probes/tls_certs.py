"""Each distinct certificate chain analysed once per process (sslyze's CertificateDeploymentAnalyzer).

sslyze's CERTIFICATE_INFO command fetches the chains a port serves and analyses each one
(CertificateDeploymentAnalyzer.perform: parsing, path validation against each of its trust stores and
the supplied CA file, EV and Symantec checks). A Jitsi host usually serves one chain on 443, 5222, 5269,
5281 and 5349, and a fleet's hosts often share a wildcard chain, so the same analysis ran once per
port. `install()` replaces the analyser that sslyze's plugin module looks up with `SharedAnalyzer`,
which returns the result already computed for the same server name, the same received chain (PEM, in
order) and the same trust stores; concurrent identical analyses wait for the first one. A chain served
with a stapled OCSP response is analysed every time (the response is part of the result). Results are
kept for CACHE_SECONDS (validity depends on the clock) and at most CACHE_SIZE of them.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from concurrent.futures import Future

from sslyze.plugins.certificate_info import implementation as _certificate_info
from sslyze.plugins.certificate_info._cert_chain_analyzer import (
    CertificateDeploymentAnalysisResult,
    CertificateDeploymentAnalyzer,
)

CACHE_SECONDS = 600.0
CACHE_SIZE = 256
_Key = tuple[str, tuple[str, ...], tuple[str, ...]]
_lock = threading.Lock()
_cache: OrderedDict[_Key, tuple[float, Future[CertificateDeploymentAnalysisResult]]] = OrderedDict()
stats = {"analysed": 0, "reused": 0}  # for measurements and tests


class SharedAnalyzer(CertificateDeploymentAnalyzer):
    """sslyze's analyser, its result shared between identical deployments (see the module)."""

    def key(self) -> _Key:
        stores = tuple(f"{s.path}|{s.name}|{s.version}" for s in self.trust_stores_for_validation)
        return f"{type(self.server_subject).__name__}:{self.server_subject.value}", \
            tuple(self.server_certificate_chain_as_pem), stores

    def perform(self) -> CertificateDeploymentAnalysisResult:
        if self.server_ocsp_response is not None:
            return super().perform()
        key = self.key()
        now = time.monotonic()
        with _lock:
            hit = _cache.get(key)
            if hit is not None and now - hit[0] < CACHE_SECONDS:
                stats["reused"] += 1
                _cache.move_to_end(key)
                future = hit[1]
                owner = False
            else:
                stats["analysed"] += 1
                future = Future()
                _cache[key] = (now, future)
                while len(_cache) > CACHE_SIZE:
                    _cache.popitem(last=False)
                owner = True
        if not owner:
            return future.result()
        try:
            result = super().perform()
        except BaseException as exc:
            with _lock:  # not a result to share: the next caller tries again
                if _cache.get(key, (0.0, None))[1] is future:
                    del _cache[key]
            future.set_exception(exc)
            raise
        future.set_result(result)
        return result


def install() -> None:
    """Make sslyze's CERTIFICATE_INFO plugin use SharedAnalyzer (idempotent)."""
    _certificate_info.CertificateDeploymentAnalyzer = SharedAnalyzer  # type: ignore[attr-defined]


def clear() -> None:
    with _lock:
        _cache.clear()
        stats.update(analysed=0, reused=0)
