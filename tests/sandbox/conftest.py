"""The sandbox suite reuses the interop harness (tests/interop): its private redis-server,
free ports, the worker binary and the API double. Run once, with one RQ version
(scripts/test uses .venv-rq3): what is tested here is the sandbox, not RQ's wire format."""
import importlib.util
import sys
from pathlib import Path

INTEROP = Path(__file__).resolve().parents[1] / "interop"
sys.path.insert(0, str(INTEROP))  # api_double

# The interop conftest under a name of its own: this file is the `conftest` module here, and
# its fixtures are not wanted (the suite defines its own password-protected Redis).
_spec = importlib.util.spec_from_file_location("interop_conftest", INTEROP / "conftest.py")
interop = importlib.util.module_from_spec(_spec)
sys.modules["interop_conftest"] = interop
_spec.loader.exec_module(interop)

RedisServer = interop.RedisServer
free_port = interop.free_port
wait_until = interop.wait_until
WORKER = interop.WORKER
